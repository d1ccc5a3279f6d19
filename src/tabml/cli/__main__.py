"""`python -m tabml.cli`."""

from tabml.cli import app

app()
