"""The convoledger HTTP API (FastAPI): ``create_app(database_url_or_ledger, settings)``."""

from convoledger.api.app import create_app

__all__ = ["create_app"]
