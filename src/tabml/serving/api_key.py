"""The optional API key: `TABML_API_KEY`, or the first line of the file `TABML_API_KEY_FILE`.

Set, every path but the health checks and the documentation needs
`Authorization: Bearer <key>` (http_gate.py); unset, the API is open (fine on 127.0.0.1).
"""

import os
from pathlib import Path

from tabml.errors import TabmlError

KEY_ENV, KEY_FILE_ENV = "TABML_API_KEY", "TABML_API_KEY_FILE"


class ApiKeyError(TabmlError):
    """The configured API key cannot be used."""


def api_key() -> bytes | None:
    """The configured key, or None when neither variable is set."""
    key, file = os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV)
    if key and file:
        raise ApiKeyError(f"both {KEY_ENV} and {KEY_FILE_ENV} are set: unset one of them")
    if file:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ApiKeyError(f"{KEY_FILE_ENV}={file} cannot be read ({error.strerror})") from None
        key = lines[0].strip() if lines else ""
        if not key:
            raise ApiKeyError(f"{KEY_FILE_ENV}={file} is empty: put the key on its first line")
    if key is None or key == "":
        return None
    if not key.isascii() or any(c.isspace() for c in key):
        raise ApiKeyError(
            f"the API key from {KEY_FILE_ENV if file else KEY_ENV} must be ASCII without spaces"
        )
    return key.encode()
