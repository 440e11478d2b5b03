"""The convoledger HTTP API (FastAPI): ``create_app(database_url_or_ledger, settings)``.

``create_app`` loads on first use, so ``convoledger.api.auth`` (token hashing, used by the CLI)
does not import FastAPI and the routes (issue 15: CLI start-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convoledger.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from convoledger.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
