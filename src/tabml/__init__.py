"""tabml: a reproducible DVC + scikit-learn + BentoML template for tabular models."""

__version__ = "0.1.0"
