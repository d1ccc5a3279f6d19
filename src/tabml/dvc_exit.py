"""A faster exit for the `dvc` command: no full garbage collection as its interpreter ends.

Python collects garbage once more while it shuts down. In DVC's process (about half a million
objects after its imports) that costs ~0.3 s, a fifth of a no-op `dvc repro`, and only frees
memory the operating system takes back at exit anyway (docs/benchmarks.md). `gc.freeze()`,
registered at start-up so it runs after every other exit handler, moves all objects out of
the collector's reach. Nothing else in DVC changes: `dvc` runs as installed.

Loaded by the one-line `tabml_dvc_exit.pth` that installing tabml puts into site-packages;
Python runs such lines at start-up, and this one acts only in a process started as `dvc`.
`TABML_DVC_FAST_EXIT=0` turns it off.
"""

import atexit
import gc
import os

_installed = False


def install() -> bool:
    """Register the exit hook once, unless TABML_DVC_FAST_EXIT=0; True if it is registered."""
    global _installed
    if os.environ.get("TABML_DVC_FAST_EXIT", "1") == "0":
        return False
    # Python may read the .pth twice (a venv's lib64 -> lib link makes two site dirs).
    if not _installed:
        atexit.register(gc.freeze)
        _installed = True
    return True
