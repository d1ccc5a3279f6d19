"""`python -m tabml.cli`."""

import gc

from tabml.cli import app

try:
    app()
finally:
    # The command is done. Python's last collection at exit would walk every object that
    # pandas, SQLAlchemy, pyarrow and onnxruntime created, only to let the process end:
    # 0.3 s after a batch of 1,000,000 rows (docs/production-loop.md). Frozen, they are left
    # to the exit.
    gc.freeze()
