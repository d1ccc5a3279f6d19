"""Production monitoring: drift of inputs against the training statistics.

Modules are imported by their full path (`tabml.monitoring.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
