"""Stage validate: check raw rows against the domain schema; stop the pipeline on failure.

Writes reports/validation/report.{md,json} either way, and the clean rows on success.
"""

import sys

from tabml import atomic, paths
from tabml.data.profile import load_profile
from tabml.data.schema import load_schema
from tabml.data.validation import (
    RawDataError,
    ValidationReport,
    derive_target,
    read_raw,
    render_report,
    unreadable_report,
    validate_raw,
)
from tabml.errors import TabmlError
from tabml.params import load_params
from tabml.stages import run


class DataNotAsDeclared(TabmlError):
    """The raw data cannot be what the profile declares (e.g. no date parses in its format)."""


def check_raw(params, profile) -> tuple[object, ValidationReport]:
    """Validate data/raw/; an unreadable file gives a failed report instead of raising."""
    features = profile.features
    text = [*features.categorical, *features.dates]  # read as written, as batch scoring does
    try:
        raw = read_raw(paths.RAW_DATA, text)
        raw = derive_target(raw, profile.target, profile.target_rule)
    except RawDataError as err:  # still leave a report for review
        return None, unreadable_report(str(paths.RAW_DATA), err)
    schema = load_schema(profile)
    dates = {column: date.format for column, date in features.dates.items()}
    return validate_raw(
        raw, schema, profile.target, params.validate_.min_rows, str(paths.RAW_DATA), dates
    )


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    clean, report = check_raw(params, profile)
    atomic.write_json(paths.VALIDATION_REPORT_JSON, report.to_dict())
    atomic.write_text(paths.VALIDATION_REPORT_MD, render_report(report))
    if report.fatal:  # the report is written; the cause fits one line
        raise DataNotAsDeclared(f"{report.fatal}; report in {paths.VALIDATION_REPORT_MD}")
    if clean is None:
        print(render_report(report), file=sys.stderr)
        print(f"validate: FAILED, report in {paths.VALIDATION_REPORT_MD}", file=sys.stderr)
        sys.exit(1)
    atomic.write_parquet(paths.CLEAN_DATA, clean)
    print(f"validate: {report.rows_valid} valid rows, {report.rows_missing_target} unlabelled")


if __name__ == "__main__":
    run(main)
