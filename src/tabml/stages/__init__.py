"""Thin DVC stage entry points: `python -m tabml.stages.<name>` (see dvc.yaml)."""

import sys
from collections.abc import Callable


def _user_errors() -> tuple[type[BaseException], ...]:
    # Imported only when something failed: each stage is its own process, and importing
    # pandera/pandas up front just for these classes cost every stage ~1-2 s.
    from tabml.dataset import ProfileError
    from tabml.gates import GateError
    from tabml.ingest import ChecksumError
    from tabml.onnx_model import ParityError
    from tabml.params import ParamsError
    from tabml.schema import SchemaConfigError
    from tabml.validation import RawDataError

    return (
        ParamsError,
        ProfileError,
        ChecksumError,
        ParityError,
        GateError,
        SchemaConfigError,
        RawDataError,
        FileNotFoundError,
    )


def run(main: Callable[[], None]) -> None:
    """Run a stage; known user errors print one clear line and exit 1 instead of a traceback."""
    try:
        main()
    except Exception as err:
        if not isinstance(err, _user_errors()):
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
