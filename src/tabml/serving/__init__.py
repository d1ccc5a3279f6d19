"""The online service (shipped in the bento): request schema, HTTP guard, batching, request log.

Modules are imported by their full path (`tabml.serving.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
