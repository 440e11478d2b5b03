"""Browser fixtures for the web UI tests: Debian's Chromium driven by Playwright for Python.

Chromium comes from Debian (``apt-get install chromium``; ``.ci/install-browser`` installs it and
the ``browser`` extra), never from ``playwright install``. Without Playwright or
``/usr/bin/chromium`` the tests skip with that hint, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CONVOLEDGER_CHROMIUM", "/usr/bin/chromium")
#: The flags Chromium needs on this machine kind (closed network, root, no GPU).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HINT = "run: bash .ci/install-browser  (Debian chromium + pip install -e '.[test,browser]')"


def _unavailable(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true; {HINT}")
    pytest.skip(f"{what} not available; {HINT}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium (Playwright ``Browser``), shared by one module's UI tests.

    Module scope, not session: Playwright's sync API runs an event loop in this thread while it
    is open, and an async test collected after the UI tests could not start its own loop."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium ({CHROMIUM})")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
