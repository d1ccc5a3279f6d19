"""The optional keys: `TABML_API_KEY` (or the first line of the file `TABML_API_KEY_FILE`) and
the feedback key `TABML_FEEDBACK_KEY` (or `TABML_FEEDBACK_KEY_FILE`).

The API key set, every path but the health checks and the documentation needs
`Authorization: Bearer <key>` (http_gate.py); unset, the API is open (fine on 127.0.0.1).
Labels are a separate right: once any key is set, `/feedback` takes only the feedback key,
so a client that may predict cannot also label (and so skew monitoring and the next
retrain). With an API key but no feedback key, `/feedback` is closed (403); give the
labelling client its own key, or `TABML_FEEDBACK_KEY=$TABML_API_KEY` to let every API
client label.
"""

import os
from pathlib import Path

from tabml.errors import TabmlError

KEY_ENV, KEY_FILE_ENV = "TABML_API_KEY", "TABML_API_KEY_FILE"
FEEDBACK_KEY_ENV, FEEDBACK_KEY_FILE_ENV = "TABML_FEEDBACK_KEY", "TABML_FEEDBACK_KEY_FILE"


class ApiKeyError(TabmlError):
    """The configured API key cannot be used."""


def _configured(env: str, file_env: str) -> bytes | None:
    key, file = os.environ.get(env), os.environ.get(file_env)
    if key and file:
        raise ApiKeyError(f"both {env} and {file_env} are set: unset one of them")
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ApiKeyError(f"{file_env}={file} cannot be read ({error.strerror})") from None
        key = lines[0].strip() if lines else ""
        if not key:
            raise ApiKeyError(f"{file_env}={file} is empty: put the key on its first line")
    if key is None or key == "":
        return None
    if not key.isascii() or any(c.isspace() for c in key):
        raise ApiKeyError(f"the key from {file_env if file else env} must be ASCII without spaces")
    return key.encode()


def api_key() -> bytes | None:
    """The configured API key, or None when neither variable is set."""
    return _configured(KEY_ENV, KEY_FILE_ENV)


def feedback_key() -> bytes | None:
    """The configured feedback key, or None when neither variable is set."""
    return _configured(FEEDBACK_KEY_ENV, FEEDBACK_KEY_FILE_ENV)
