"""Entity tables as a profile declares them: features looked up by a key, as of a time.

A profile's `entities:` section names the training rows' own time column and, per table, the
key column (the rows hold a column of the same name), the table's event-time column, how
long a value stays valid (`ttl`) and the feature columns it adds. The features stage joins
them into the training rows (`tabml.scoring.entity_join`); the service looks them up by key
(`tabml.serving.entity_lookup`). The declaration lives in the shipped runtime because the
packaged model carries it: serving needs the same key, TTL and columns training used.
"""

import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tabml.errors import TabmlError


class EntityTableMissing(TabmlError, FileNotFoundError):
    """A declared entity table's file is not where the declaration says."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntitySource(_Strict):
    """The table's file: a path in the repository (pinned by `sha256`) or inside a package."""

    path: str
    package: str | None = None
    sha256: str | None = None

    def location(self, root: Path = Path()) -> Path:
        """The file: `path` under `root` (the workspace), or inside the installed package."""
        if self.package is None:
            found = root / self.path
        else:
            spec = importlib.util.find_spec(self.package)
            if spec is None or not spec.submodule_search_locations:
                raise EntityTableMissing(f"package {self.package!r} is not installed")
            found = Path(next(iter(spec.submodule_search_locations))) / self.path
        if not found.is_file():
            raise EntityTableMissing(f"entity table {found} does not exist")
        return found


class EntityTable(_Strict):
    """One entity table: `features` of the entity named by `key`, each row valid from its
    `timestamp` for `ttl` (no `ttl`: until the next row of the same key)."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    source: EntitySource
    key: str
    timestamp: str
    # When a value became known, if later than its event time (e.g. a nightly batch writing
    # yesterday's numbers). The leakage check refuses a joined value known after its row;
    # on equal event times the later `created` wins (Feast's tie-break), then the later row.
    created: str | None = None
    # ISO 8601 duration (PT3H, P30D) or seconds. Values older than this join as missing.
    ttl: timedelta | None = None
    features: list[str] = Field(min_length=1)
    # Online, a key's latest value older than `ttl` at request time: `refuse` answers 400,
    # `serve` uses it anyway (say so when the table is refreshed less often than the TTL).
    on_stale: Literal["refuse", "serve"] = "refuse"

    @field_validator("ttl")
    @classmethod
    def _positive(cls, ttl: timedelta | None) -> timedelta | None:
        if ttl is not None and ttl <= timedelta(0):
            raise ValueError("ttl must be positive (or left out: no limit)")
        return ttl

    @property
    def time_columns(self) -> list[str]:
        return [self.timestamp] + ([self.created] if self.created else [])


class EntityJoin(_Strict):
    """The profile's `entities:` section: the rows' time column and the tables joined to them."""

    row_time: str  # the training row's own timestamp (ISO 8601; no offset means UTC)
    tables: list[EntityTable] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_columns(self) -> "EntityJoin":
        names = [t.name for t in self.tables]
        features = [f for t in self.tables for f in t.features]
        for what, values in (("table names", names), ("entity features", features)):
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"{what} listed twice: {twice}")
        clash = sorted({self.row_time, *(t.key for t in self.tables)} & set(features))
        if clash:
            raise ValueError(f"entity features named like a key or the row time: {clash}")
        return self

    @property
    def features(self) -> list[str]:
        """Every column the tables add, in declaration order."""
        return [f for t in self.tables for f in t.features]
