"""The shipped runtime's scoring core: rules, row checks, the ONNX classifier, answers, warnings.

Modules are imported by their full path (`tabml.scoring.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
