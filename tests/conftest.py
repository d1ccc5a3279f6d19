"""Shared test data."""

import pytest


@pytest.fixture
def good_record() -> dict:
    """A valid penguin inside the training range (a Gentoo)."""
    return {
        "island": "Biscoe",
        "bill_length_mm": 48.6,
        "bill_depth_mm": 16.0,
        "flipper_length_mm": 230.0,
        "body_mass_g": 5800.0,
        "sex": "male",
    }
