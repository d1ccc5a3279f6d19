"""The database URL a user passes (`make batch DB=...`, `make monitor DB=...`): checked before
any work, shown without its password, and scrubbed from every message that could quote it.

A URL's password must not reach a terminal, a CI log or a report: `shown` replaces it with
`***` (in the user part and in a `password=` query parameter), and `scrub` removes it, as
given and URL-decoded, from any text (a driver's error message, say). The Makefile passes
`DB` in the environment (`TABML_DB`), not on the command line it echoes.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote

from tabml.batch.batch_ids import DIALECTS
from tabml.errors import TabmlError

DB_ENV = "TABML_DB"
HIDDEN = "***"
_USER_PASSWORD = re.compile(r"(://[^:/@?#\s]*:)([^@\s]*)@")
_QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd)=)([^&\s]*)", re.IGNORECASE)
EXAMPLES = "DB=sqlite:///predictions.db or DB=postgresql://user@host/db"


class DatabaseUrlError(TabmlError, ValueError):
    """A database URL batch scoring and monitoring cannot use."""


def shown(url: str) -> str:
    """`url` with its password replaced by `***`."""
    return _QUERY_PASSWORD.sub(rf"\g<1>{HIDDEN}", _USER_PASSWORD.sub(rf"\g<1>{HIDDEN}@", url))


def scrub(text: str, url: str) -> str:
    """`text` with `url` shown without its password, and the password itself nowhere."""
    text = text.replace(url, shown(url))
    secrets = [m.group(2) for m in (*_USER_PASSWORD.finditer(url), *_QUERY_PASSWORD.finditer(url))]
    for secret in {s for raw in secrets if raw for s in (raw, unquote(raw))}:
        text = text.replace(secret, HIDDEN)
    return text


@dataclass(frozen=True)
class DatabaseUrl:
    """A checked URL: as given (`text`, with its secret), for messages (`shown`), its backend."""

    text: str
    backend: str

    @property
    def shown(self) -> str:
        return shown(self.text)


def check_url(text: str) -> DatabaseUrl:
    """A SQLite file or a PostgreSQL database, or one line saying why not.

    Raises:
        DatabaseUrlError: not a URL, another database (no driver is loaded for it), or an
            in-memory SQLite database (it keeps nothing after the command).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise DatabaseUrlError(f"{shown(text)}: not a database URL: {EXAMPLES}") from None
    backend = url.get_backend_name()
    if backend not in DIALECTS:
        raise DatabaseUrlError(
            f"{shown(text)}: batch predictions live in SQLite or PostgreSQL, not {backend}: "
            f"{EXAMPLES}"
        )
    memory = url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    if backend == "sqlite" and memory:
        raise DatabaseUrlError(
            f"{shown(text)}: an in-memory SQLite database keeps nothing after the command: "
            "name a file, DB=sqlite:///predictions.db"
        )
    return DatabaseUrl(text, backend)
