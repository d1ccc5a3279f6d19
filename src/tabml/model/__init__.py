"""Training: features, estimators, evaluation, metric gates, training statistics.

Modules are imported by their full path (`tabml.model.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
