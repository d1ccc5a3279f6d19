"""Date formats a profile may declare: strptime codes, or ISO8601; how people write them.

Standard library only: loading a profile checks its formats without the runtime's numpy and
pandas. Parsing is `tabml.scoring.dates`.
"""

import re

ISO8601 = "ISO8601"
# YYYY-MM-DD, optionally followed by a time (T or space) and a UTC offset. Month and day are
# range-checked here; impossible days (2023-02-30) are caught when the value is parsed.
ISO_DATE_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
ISO_DATE = re.compile(ISO_DATE_PATTERN)
# strptime codes a declared format may use: what each looks like (for people, and as a regex)
CODES = {
    "%Y": ("YYYY", r"\d{4}"),
    "%m": ("MM", r"(0?[1-9]|1[0-2])"),
    "%d": ("DD", r"(0?[1-9]|[12]\d|3[01])"),
    "%H": ("hh", r"([01]?\d|2[0-3])"),
    "%M": ("mm", r"[0-5]?\d"),
    "%S": ("ss", r"[0-5]?\d"),
    "%f": ("ffffff", r"\d{1,6}"),
    "%z": ("+hh:mm", r"(Z|[+-]\d{2}:?\d{2})"),
}
_CODE = re.compile(r"%.")


def check_format(fmt: str) -> str:
    """`fmt` if it is ISO8601 or uses only the codes in CODES (raise ValueError otherwise)."""
    if fmt == ISO8601:
        return fmt
    unknown = sorted({code for code in _CODE.findall(fmt) if code not in CODES})
    if unknown or "%Y" not in fmt:
        raise ValueError(
            f"date format {fmt!r}: use ISO8601 or strptime codes among {' '.join(CODES)} "
            f"with a four-digit year %Y (found {unknown or 'no %Y'})"
        )
    return fmt


def describe_format(fmt: str) -> str:
    """A format as people write it: `%d.%m.%Y` -> `DD.MM.YYYY`."""
    if fmt == ISO8601:
        return "ISO 8601 (YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss][+hh:mm])"
    return _CODE.sub(lambda m: CODES[m.group(0)][0], fmt)


def format_pattern(fmt: str) -> str:
    """A regular expression every value of the format matches (the schema's and API's check)."""
    if fmt == ISO8601:
        return ISO_DATE_PATTERN
    parts, end = [], 0
    for found in _CODE.finditer(fmt):
        parts += [re.escape(fmt[end : found.start()]), CODES[found.group(0)][1]]
        end = found.end()
    return "^" + "".join(parts) + re.escape(fmt[end:]) + "$"
