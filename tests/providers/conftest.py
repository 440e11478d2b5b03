"""Fixtures for the provider tests: the recorded real responses in ``../shared``
(``tests/recorded_responses.py``)."""

from __future__ import annotations

import pytest

from recorded_responses import PROVIDER_DATA, Recorded

DATA = PROVIDER_DATA

__all__ = ["DATA", "Recorded"]


@pytest.fixture(scope="session")
def recorded() -> Recorded:
    """The recorded provider responses (fails loudly when ../shared is missing)."""
    assert DATA.is_dir(), f"shared provider responses not found at {DATA}"
    return Recorded(DATA)
