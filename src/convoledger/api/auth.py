"""API keys: issue and check bearer tokens bound to one account (the owner).

A token is ``clg_`` + 43 URL-safe characters from ``secrets.token_urlsafe(32)`` (256 random
bits). Only its SHA-256 hex digest is stored (``Store.add_api_key``); the token itself is shown
once, to whoever issued it. Checking a token hashes it and looks the digest up
(``Store.account_for_key``), so the stored table never holds a usable secret.
"""

from __future__ import annotations

import hashlib
import secrets

from convoledger.store.base import Store

#: Prefix of every issued token (makes leaked tokens easy to recognise by secret scanners).
TOKEN_PREFIX = "clg_"


def hash_token(token: str) -> str:
    """The SHA-256 hex digest (64 lowercase hex characters) of ``token`` as UTF-8."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_api_key(store: Store, account_name: str, label: str | None = None) -> str:
    """Create account ``account_name`` if it is missing, issue a new token bound to it and
    return the token (the only time it is visible; the store keeps its SHA-256 only).

    Raises ``ValueError`` for an empty or blank account name.
    """
    if not isinstance(account_name, str) or not account_name.strip():
        raise ValueError("account name cannot be empty")
    account = await store.ensure_account(account_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await store.add_api_key(account.name, hash_token(token), label)
    return token


async def authenticate(store: Store, token: str | None) -> str | None:
    """The account name ``token`` is bound to, or ``None`` for a missing or unknown token."""
    if not token:
        return None
    account = await store.account_for_key(hash_token(token))
    return None if account is None else account.name
