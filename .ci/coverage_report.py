"""`make coverage`: the coverage of src/tabml that `make test COV=1` (and test-slow) measured.

Prints coverage.py's report (lowest first), the total, and the modules no test runs a line
of. Exits 1 when there is no coverage data yet.
"""

import sys
from pathlib import Path

import coverage
from coverage.exceptions import NoDataError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tabml"


def main() -> int:
    cov = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    cov.load()
    try:
        total = cov.report(sort="cover", skip_empty=True)
    except NoDataError:
        print("coverage: no data: run `make test COV=1` first", file=sys.stderr)
        return 1
    untested = []
    for path in sorted(PACKAGE.rglob("*.py")):
        _, statements, _, missing, _ = cov.analysis2(str(path))
        if statements and len(missing) == len(statements):
            untested.append(str(path.relative_to(ROOT)))
    print(f"\ncoverage: {total:.1f}% of src/tabml's statements run by the tests")
    print(f"untested modules ({len(untested)}): " + (", ".join(untested) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
