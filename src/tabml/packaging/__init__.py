"""Build time: ONNX conversion with the parity check, and the BentoML bento.

Modules are imported by their full path (`tabml.packaging.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
