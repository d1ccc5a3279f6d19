"""Experiments and review: dvc exp rows, sweeps, base revisions, the review report.

Modules are imported by their full path (`tabml.experiments.<module>`): each stage and command loads
only what it uses, and the runtime folders stay free of training libraries.
"""
