"""The web UI (issue 18) served by ``convoledger serve``: ``GET /`` is the single page,
``/ui/…`` its built assets.

The sources live in the repository's top-level ``ui/`` folder (TypeScript + Preact, built by
Vite); ``npm run build`` there writes the bundle into ``static/`` beside this file, which is
committed, so installing the package needs no Node.js and the page loads nothing from a CDN.
The page talks to the same API as everyone else: it signs in with an API token (kept in the
browser's ``sessionStorage``) and sends it as ``Authorization: Bearer``; live updates come from
``GET /api/stream`` (read with ``fetch``, since ``EventSource`` cannot send that header).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

#: Where the built assets live (``index.html`` + ``assets/``).
STATIC_DIR = Path(__file__).resolve().parent / "static"


def install_ui(app: FastAPI) -> None:
    """Serve the UI on ``app``: ``GET /`` (``index.html``, never cached so a new build shows at
    once) and ``/ui/…`` (hashed asset files). ``RuntimeError`` if the build is missing."""
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise RuntimeError(f"the web UI build is missing ({index}); run `npm run build` in ui/")

    @app.get("/", include_in_schema=False)
    async def ui_index() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    app.mount("/ui", StaticFiles(directory=STATIC_DIR), name="ui")
