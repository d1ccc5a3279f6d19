"""Batch scoring of a file into a database with the packaged model.

Modules are imported by their full path (`tabml.batch.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
