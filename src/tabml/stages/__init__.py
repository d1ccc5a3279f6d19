"""Thin DVC stage entry points: `python -m tabml.stages.<name>` (see dvc.yaml)."""

import gc
import sys
from collections.abc import Callable

from tabml.errors import TabmlError, one_line

# A stage is a short-lived process that imports pandas / scikit-learn (about a million
# objects), does a little work and exits. Python's cyclic collector rescans that growing heap
# during the imports and again at exit: ~0.3 s + ~0.5 s per stage, about a quarter of the
# penguins pipeline (docs/benchmarks.md). While `python -m` locates the stage module, sys.argv[0]
# is "-m" (Python docs, `-m`): only then, before the stage's own imports, is the collector
# paused; `run` freezes what the imports built and turns it back on. Importing a stage module
# any other way (tests, benchmarks) leaves the collector alone.
if sys.argv[:1] == ["-m"]:
    gc.disable()


def run(main: Callable[[], None]) -> None:
    """Run a stage; a user error prints one `error:` line and exits 1 instead of a traceback."""
    # Imported modules live until exit: never scan them again. The stage's own work runs with
    # the collector on, so large data (flights) is collected as usual.
    gc.freeze()
    gc.enable()
    try:
        main()
    except (TabmlError, FileNotFoundError) as err:  # a missing input file is the user's too
        print(one_line(err), file=sys.stderr)
        sys.exit(1)
    # Outputs are written and closed (tabml.atomic): skip the full collection at exit, which
    # would only free memory the operating system takes back anyway.
    gc.freeze()
