"""API keys: issue and check bearer tokens bound to one account (the owner).

A token is ``clg_`` + 43 URL-safe characters from ``secrets.token_urlsafe(32)`` (256 random
bits). Only its SHA-256 hex digest is stored (``Store.add_api_key``); the token itself is shown
once, to whoever issued it. Checking a token hashes it and looks the digest up
(``Store.account_for_key``), so the stored table never holds a usable secret.
"""

from __future__ import annotations

import hashlib
import secrets
import time

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


class TokenCache:
    """Token hash → account name, each entry kept ``ttl`` seconds (``time.monotonic``) after it
    was read from the store, at most ``max_entries`` entries (all dropped when full).

    Why a short TTL and not a revocation check: tokens are revoked by another process (``convoledger
    user revoke``) and any per-request check is a trip to the database again (on SQLite a read
    on the event loop's thread measured slower than the lane hop it saves: it waits for the GIL
    behind the reader lane's decoding). A TTL of a fraction of a second removes the lookup from
    almost every request of a busy client and bounds how long a revoked token still works in a
    process that read it (``Settings.auth_cache_seconds``, issue 15). Only found tokens are
    kept, so a new token works at once. ``ttl <= 0`` disables the cache.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[str, float]] = {}

    async def account(self, store: Store, token: str) -> str | None:
        """The account ``token`` is bound to (``authenticate``), from the cache while fresh."""
        if self.ttl <= 0 or not token:
            return await authenticate(store, token)
        key = hash_token(token)
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[1] > now:
            return found[0]
        account = await store.account_for_key(key)
        if account is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (account.name, now + self.ttl)
        return account.name
