"""Data preparation: dataset profiles, ingest, the pandera schema, validation, bootstrap.

Modules are imported by their full path (`tabml.data.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
