"""The CPU kernels a process computes with: which OpenBLAS core type numpy and scipy loaded.

`tabml/__init__.py` pins OpenBLAS to its Haswell kernels on x86-64 (unless OPENBLAS_CORETYPE
is set), because AVX-512 kernels round a logistic regression's last bits differently and so
change `model.joblib` and `dvc.lock`. Registering records the kernel; reproducing probes it
again in the version's own environment, so a mismatch is named beside the outputs it moved.

This file also runs as a script in another environment (`python kernel.py`, with a version's
`src/` on PYTHONPATH), and prints the probe as JSON. It imports only tabml's root module (the
pin, as every stage imports it first), numpy, scipy and threadpoolctl: older versions' trees
have no `tabml.reproduce`.
"""

import contextlib
import json
import os
import platform

# What `tabml/__init__.py` sets when the user did not: named in a mismatch message.
PINNED = "Haswell"


def probe() -> dict[str, str]:
    """{"kernel": "x86_64 openblas Haswell", "coretype": OPENBLAS_CORETYPE or "", "python"}."""
    import tabml  # noqa: F401  (pins OPENBLAS_CORETYPE before numpy loads, as the stages do)

    coretype = os.environ.get("OPENBLAS_CORETYPE", "")  # read after the pin: what numpy sees
    import numpy  # noqa: F401

    with contextlib.suppress(ImportError):  # scikit-learn's solvers use scipy's own OpenBLAS
        import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    blas = sorted(
        {
            f"{lib['internal_api']} {lib.get('architecture') or 'unknown'}"
            for lib in threadpool_info()
            if lib.get("user_api") == "blas"
        }
    )
    kernel = f"{platform.machine()} {', '.join(blas) or 'no BLAS loaded'}"
    return {"kernel": kernel, "coretype": coretype, "python": platform.python_version()}


if __name__ == "__main__":
    print(json.dumps(probe()))
