"""Store contract: listing and revoking API keys (issue 16 item 9), on every backend.

Keys are stored as hashes; what can be listed is the hash (and its short id), the account, the
label and the time the key was issued. Revoking removes the key: it stops authenticating at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from convoledger.errors import Conflict, NotFound
from convoledger.models.timeutil import utcnow
from convoledger.store.base import KEY_ID_LENGTH, Store


def _hash() -> str:
    """A fresh SHA-256 hex digest, as ``api.auth.hash_token`` makes them."""
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


async def test_keys_are_listed_per_account_oldest_first_with_label_and_time(store: Store) -> None:
    alice, bob = f"alice-{uuid.uuid4()}", f"bob-{uuid.uuid4()}"
    await store.ensure_account(alice)
    await store.ensure_account(bob)
    before = utcnow()
    first, second, other = _hash(), _hash(), _hash()
    await store.add_api_key(alice, first, label="laptop")
    await asyncio.sleep(0.01)  # distinct issue times
    await store.add_api_key(alice, second)
    await store.add_api_key(bob, other, label="ci")
    after = utcnow()

    keys = await store.list_api_keys(alice)
    assert [k.key_hash for k in keys] == [first, second]
    assert [k.label for k in keys] == ["laptop", None]
    assert {k.account for k in keys} == {alice}
    for key in keys:
        assert key.created_at is not None and key.created_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= key.created_at <= after + timedelta(seconds=1)
    assert keys[0].key_id == first[:KEY_ID_LENGTH] and len(keys[0].key_id) == 12
    assert [k.key_hash for k in await store.list_api_keys(bob)] == [other]
    assert await store.list_api_keys(f"nobody-{uuid.uuid4()}") == []
    everyone = {k.key_hash for k in await store.list_api_keys()}
    assert {first, second, other} <= everyone


async def test_keys_are_found_by_hash_prefix(store: Store) -> None:
    name = f"acct-{uuid.uuid4()}"
    await store.ensure_account(name)
    key = _hash()
    await store.add_api_key(name, key, label="x")
    found = await store.list_api_keys(key_hash_prefix=key[:KEY_ID_LENGTH])
    assert [k.key_hash for k in found] == [key] and found[0].account == name
    assert [k.key_hash for k in await store.list_api_keys(name, key_hash_prefix=key[:8])] == [key]
    assert await store.list_api_keys(f"other-{uuid.uuid4()}", key_hash_prefix=key[:8]) == []
    for bad in ("ABC", "%", "_", "xyz", "0" * 65, "a%"):
        with pytest.raises(ValueError, match="lowercase hex"):
            await store.list_api_keys(key_hash_prefix=bad)


async def test_reissuing_a_hash_keeps_its_time_and_replaces_its_label(store: Store) -> None:
    name = f"acct-{uuid.uuid4()}"
    await store.ensure_account(name)
    key = _hash()
    await store.add_api_key(name, key, label="old")
    (before,) = await store.list_api_keys(name)
    await asyncio.sleep(0.01)
    await store.add_api_key(name, key, label="new")
    (after,) = await store.list_api_keys(name)
    assert after.label == "new" and after.created_at == before.created_at
    other = f"other-{uuid.uuid4()}"
    await store.ensure_account(other)
    with pytest.raises(Conflict):
        await store.add_api_key(other, key)


async def test_a_deleted_key_no_longer_authenticates(store: Store) -> None:
    name = f"acct-{uuid.uuid4()}"
    await store.ensure_account(name)
    keep, revoke = _hash(), _hash()
    await store.add_api_key(name, keep, label="keep")
    await store.add_api_key(name, revoke, label="revoke")
    assert (await store.account_for_key(revoke)) is not None
    removed = await store.delete_api_key(revoke)
    assert removed.key_hash == revoke and removed.account == name and removed.label == "revoke"
    assert await store.account_for_key(revoke) is None
    still = await store.account_for_key(keep)
    assert still is not None and still.name == name
    assert [k.key_hash for k in await store.list_api_keys(name)] == [keep]
    with pytest.raises(NotFound):
        await store.delete_api_key(revoke)
    with pytest.raises(NotFound):
        await store.delete_api_key(_hash())


async def test_jsonfiles_keys_recorded_without_a_time_are_listed_with_none(tmp_path: Path) -> None:
    """A JSON-files ledger written before keys had a time keeps working: such a key lists with
    ``created_at=None`` (sorted first) and can be revoked."""
    import orjson

    from convoledger.store.jsonfiles import JsonFilesStore

    legacy, fresh = _hash(), _hash()
    root = tmp_path / "ledger"
    root.mkdir()
    (root / "_accounts.json").write_bytes(
        orjson.dumps(
            {
                "accounts": {"old": {"created_at": "2024-01-01T00:00:00+00:00"}},
                "keys": {legacy: {"account": "old", "label": None}},
            }
        )
    )
    store = JsonFilesStore(root)
    await store.open()
    await store.add_api_key("old", fresh, label="new")
    keys = await store.list_api_keys("old")
    assert [(k.key_hash, k.created_at is None) for k in keys] == [(legacy, True), (fresh, False)]
    assert (await store.delete_api_key(legacy)).created_at is None
    assert await store.account_for_key(legacy) is None
    await store.close()
