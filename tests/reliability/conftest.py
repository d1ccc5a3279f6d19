"""The reliability suite uses the shared fixtures of tests/conftest.py (`reproduced`, `repo`)."""
