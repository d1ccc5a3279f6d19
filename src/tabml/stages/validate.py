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
from tabml.params import load_params
from tabml.stages import run


def check_raw(params, profile) -> tuple[object, ValidationReport]:
    """Validate data/raw/; an unreadable file gives a failed report instead of raising."""
    try:
        raw = derive_target(read_raw(paths.RAW_DATA), profile.target, profile.target_rule)
    except RawDataError as err:  # still leave a report for review
        return None, unreadable_report(str(paths.RAW_DATA), err)
    schema = load_schema(profile)
    return validate_raw(raw, schema, profile.target, params.validate_.min_rows, str(paths.RAW_DATA))


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    clean, report = check_raw(params, profile)
    atomic.write_json(paths.VALIDATION_REPORT_JSON, report.to_dict())
    atomic.write_text(paths.VALIDATION_REPORT_MD, render_report(report))
    if clean is None:
        print(render_report(report), file=sys.stderr)
        print(f"validate: FAILED, report in {paths.VALIDATION_REPORT_MD}", file=sys.stderr)
        sys.exit(1)
    atomic.write_parquet(paths.CLEAN_DATA, clean)
    print(f"validate: {report.rows_valid} valid rows, {report.rows_missing_target} unlabelled")


if __name__ == "__main__":
    run(main)
