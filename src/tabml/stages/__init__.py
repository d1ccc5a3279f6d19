"""Thin DVC stage entry points: `python -m tabml.stages.<name>` (see dvc.yaml)."""

import sys
from collections.abc import Callable


def run(main: Callable[[], None]) -> None:
    """Run a stage; known user errors print one clear line and exit 1 instead of a traceback."""
    from tabml.dataset import ProfileError
    from tabml.ingest import ChecksumError
    from tabml.onnx_model import ParityError
    from tabml.params import ParamsError
    from tabml.schema import SchemaConfigError
    from tabml.validation import RawDataError

    try:
        main()
    except (
        ParamsError,
        ProfileError,
        ChecksumError,
        ParityError,
        SchemaConfigError,
        RawDataError,
        FileNotFoundError,
    ) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
