"""tabml: a reproducible DVC + scikit-learn + BentoML template for tabular models."""

import os
import platform

__version__ = "0.1.0"

# OpenBLAS picks its kernels by CPU when it loads, and an AVX-512 kernel (SkylakeX) rounds a
# logistic regression's last bits differently from the AVX2 one (Haswell, also what Zen gets):
# the same code, params and data gave another model.joblib, so another dvc.lock, on an Intel
# and an AMD machine (measured). Every x86-64 CPU of the last decade runs the Haswell kernels,
# so any process that imports tabml before numpy asks for them; OPENBLAS_CORETYPE set by the
# user wins. Dask workers inherit it from a LocalCluster's client; external workers need it
# in their environment (docs/scale-out.md; the engine refuses a mismatch).
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
