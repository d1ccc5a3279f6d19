"""Stage validate: check raw rows against the domain schema; stop the pipeline on failure.

Writes reports/validation/report.{md,json} either way, and the clean rows on success.
"""

import sys

from tabml import atomic, paths
from tabml.dataset import load_profile
from tabml.params import load_params
from tabml.schema import load_schema
from tabml.stages import run
from tabml.validation import derive_target, read_raw, render_report, validate_raw


def main() -> None:
    params = load_params()
    profile = load_profile(params.data.profile)
    raw = derive_target(read_raw(paths.RAW_DATA), profile.target, profile.target_rule)
    clean, report = validate_raw(
        raw, load_schema(profile), profile.target, params.validate_.min_rows, str(paths.RAW_DATA)
    )
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
