"""Issue 16 item 5: ``/docs`` and ``/redoc`` work offline: their pages name no external host
and every script, style sheet and icon they load is served by the app itself."""

from __future__ import annotations

import re

import httpx
import pytest

from serve_process import ServeProcess

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(hard: ServeProcess, page: str) -> None:
    with httpx.Client(base_url=hard.base_url) as client:
        r = client.get(page)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        assert not re.search(r"https?://", r.text), re.findall(r"https?://[^\s\"']+", r.text)
        assets = [a or b for a, b in _ASSET.findall(r.text)]
        scripts = [a for a in assets if a.endswith((".js", ".css", ".png"))]
        assert scripts, r.text
        for asset in scripts:
            got = client.get(asset)
            assert got.status_code == 200, asset
            assert len(got.content) > 100, asset
        assert client.get("/openapi.json").status_code == 200
