"""`make harvest`: the labelled production rows as a versioned, validated training input.

The rows are the monitoring join (request log inputs + feedback log labels, last label
wins). Each row is checked against the dataset's pandera schema: rows that fail are
rejected with the reason (reported, never used, never silently dropped). The file keeps
the rows of earlier harvests (the logs are bounded; a corrected label replaces the old one),
in a fixed order, so the same rows give the same bytes, and `dvc add` makes each harvest a
new DVC version. The profile's `production:` entry pins its sha256.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pandera.errors import SchemaError, SchemaErrors

from tabml import atomic
from tabml.data.production import ID, TIME, VERSION, in_time_order
from tabml.data.profile import DatasetProfile, load_profile
from tabml.data.schema import load_schema
from tabml.errors import TabmlError
from tabml.model.tasks import training_task
from tabml.monitoring import join, sources
from tabml.tables import sha256_of
from tabml.tools import dvc

PRODUCTION_FILE = Path("data/production/labelled.parquet")
MAX_REJECTS_LISTED = 20


class HarvestError(TabmlError, RuntimeError):
    """Nothing to harvest, or the harvested file cannot be written or pinned."""


@dataclass
class Harvest:
    path: Path
    sha256: str
    rows: int  # labelled rows in the file (this harvest and earlier ones)
    new_rows: int  # rows whose id the previous version did not have
    labelled: int  # labelled predictions found in the logs now
    rejects: list[dict] = field(default_factory=list)  # {prediction_id, reason}
    by_source: dict[str, int] = field(default_factory=dict)  # labels received per source
    excluded: tuple[str, ...] = ()  # sources left out

    def summary(self) -> str:
        sources_seen = ", ".join(f"{k} {v:,}" for k, v in self.by_source.items()) or "none"
        left_out = f"; left out: {', '.join(self.excluded)}" if self.excluded else ""
        return (
            f"harvest: {self.rows:,} labelled production rows in {self.path} ({self.new_rows:,} "
            f"new, {len(self.rejects):,} rejected by the schema), sha256 {self.sha256[:12]}; "
            f"labels by source: {sources_seen}{left_out}"
        )


def labelled_rows(
    requests: Path, feedback: Path, profile: DatasetProfile, exclude: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Logged predictions that got a label (id, time, version, inputs and the label), and
    how many labels each source sent. Labels of the `exclude` sources are left out."""
    online = sources.read_request_log(requests).frame  # inputs and ids: no answer columns
    labels = sources.read_feedback_log(feedback).frame
    by_source = sources.labels_by_source(labels)
    left_out = sources.excluded(labels["source"], exclude)
    if left_out.any():
        labels = labels[~left_out].reset_index(drop=True)
    if online.empty or labels.empty:
        raise HarvestError(
            f"no labelled predictions: {len(online):,} logged in {requests}/, {len(labels):,} "
            f"labels in {feedback}/ (serve traffic, then send labels: POST /feedback or "
            "make feedback)"
        )
    joined, _ = join.join_labels(online, labels)
    joined = joined[joined["label"].notna() & joined[ID].notna()]
    frame = joined.reindex(columns=[ID, TIME, VERSION, *profile.features.all])
    frame[profile.target] = joined["label"].astype(object)
    return in_time_order(frame), by_source


def schema_rejects(frame: pd.DataFrame, profile: DatasetProfile) -> dict[int, str]:
    """Row position -> why the dataset's schema refuses that row (empty when all pass)."""
    schema = load_schema(profile)
    try:
        schema.validate(frame.reset_index(drop=True), lazy=True)
    except SchemaErrors as err:
        reasons: dict[int, list[str]] = {}
        for case in err.failure_cases.itertuples():
            if pd.isna(case.index):
                raise HarvestError(f"production rows fail the schema: {case.check}") from err
            what = f"{case.column}: {case.check} (got {case.failure_case!r})"
            reasons.setdefault(int(case.index), []).append(what)
        return {row: "; ".join(sorted(set(why))) for row, why in sorted(reasons.items())}
    except SchemaError as err:
        raise HarvestError(f"production rows fail the schema: {err}") from err
    return {}


def harvest(
    requests: Path,
    feedback: Path,
    profile_name: str,
    root: Path = Path(),
    exclude: tuple[str, ...] = (),
) -> Harvest:
    """Write `root/data/production/labelled.parquet`, `dvc add` it, pin it in the profile.

    `exclude`: label sources left out (`http` also leaves out `http:<name>`).
    """
    configs = root / "configs"
    profile = load_profile(profile_name, configs)
    if not training_task(profile).retrainable or profile.target_rule is not None:
        raise HarvestError("harvest needs a classification profile whose target is a column")
    found, by_source = labelled_rows(requests, feedback, profile, tuple(exclude))
    rejected = schema_rejects(found, profile)
    keep = found.drop(index=list(rejected))
    path = root / PRODUCTION_FILE
    if not path.exists() and path.with_name(path.name + ".dvc").exists():
        raise HarvestError(
            f"{path}.dvc names an earlier harvest that is not here: `dvc pull` (or `dvc "
            "checkout`) it first, so that this harvest keeps its rows"
        )
    previous = pd.read_parquet(path) if path.exists() else keep.iloc[:0]
    rows = in_time_order(pd.concat([previous, keep], ignore_index=True))
    rows[TIME] = pd.to_datetime(rows[TIME], utc=True)
    rows = rows.astype({c: "float64" for c in profile.features.numeric})
    atomic.write_parquet(path, rows)
    dvc(["add", "--quiet", str(PRODUCTION_FILE)], root)
    digest = sha256_of(path)
    pin_production(configs / f"{profile.name}.yaml", str(PRODUCTION_FILE), digest)
    rejects = [{"prediction_id": found.at[i, ID], "reason": why} for i, why in rejected.items()]
    new = len(set(rows[ID]) - set(previous[ID]))
    return Harvest(PRODUCTION_FILE, digest, len(rows), new, len(found), rejects, by_source,
                   tuple(exclude))  # fmt: skip


_BLOCK = re.compile(r"^(# Labelled production rows.*\n)?production:[^\n]*\n(?:[ \t]+.*\n?)*", re.M)


def without_production_pin(text: str) -> str:
    """A profile's text without its `production:` entry (what a harvest changes)."""
    return _BLOCK.sub("", text).rstrip("\n")


def pin_production(profile_file: Path, path: str, digest: str) -> None:
    """Set the profile's `production:` entry (path + sha256), keeping the rest of the file."""
    block = (
        "# Labelled production rows (`make harvest` writes the file and this pin).\n"
        f"production:\n  path: {path}\n  sha256: {digest}\n"
    )
    text = profile_file.read_text()
    found = _BLOCK.search(text)
    if found:
        text = text[: found.start()] + block + text[found.end() :]
    else:
        text = text.rstrip("\n") + "\n" + block
    atomic.write_text(profile_file, text)
    pinned = load_profile(profile_file.stem, profile_file.parent).production
    if pinned is None or pinned.sha256 != digest:  # the edit must read back
        raise HarvestError(f"{profile_file}: could not pin production.sha256 {digest}")
