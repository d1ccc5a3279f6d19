"""One base class for every error a user can cause, and the one-line form it is reported in.

Entry points (DVC stages via `tabml.stages.run`, every `python -m tabml.cli` command) catch
`TabmlError` and print `error: <message>` with exit code 1, never a traceback. Each module
defines its own subclass (e.g. `ParamsError`), so callers can still tell them apart.
"""

from typing import Any

# An error line can quote user data (a header row, a value): cut it to a readable length.
MAX_MESSAGE_CHARS = 4000


class TabmlError(Exception):
    """Something the user can fix: bad params, data, profile, model, command or state."""


def one_line(err: BaseException, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`error: <message>` for a user error, cut to `limit` characters."""
    text = str(err).strip() or type(err).__name__
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters)"
    return f"error: {text}"


def describe_errors(err: Any) -> str:
    """A pydantic `ValidationError` (profile or params.yaml) as `dotted.key: message; ...`."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
