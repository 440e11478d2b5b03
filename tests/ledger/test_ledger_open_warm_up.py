"""``Ledger.open`` loads the tokenizer up front (issue 15: the first append of a process paid
~0.3 s for it), unless told not to (the CLI)."""

from __future__ import annotations

import pytest

from convoledger import tokens
from convoledger.backends import open_ledger
from convoledger.models.records import ConversationRecord, MessageRecord


async def test_open_loads_the_tokenizer_and_the_first_append_counts_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "_encoding", None)
    ledger = await open_ledger("memory://", owner="warm").open()
    try:
        loaded = tokens._encoding
        assert loaded is not None
        conv, _ = await ledger.get_or_create_conversation(ConversationRecord(owner_id="warm", session_id="s"))
        stored = await ledger.append(conv, MessageRecord(role="user", content="hello there"))
        uncounted = stored.model_copy(update={"token_count": None})
        assert stored.token_count == tokens.count_message_tokens(uncounted)
        assert tokens._encoding is loaded  # the warm encoding was used, not a second one
    finally:
        await ledger.close()


async def test_open_without_warm_up_leaves_the_tokenizer_to_the_first_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "_encoding", None)
    ledger = await open_ledger("memory://", owner="cold").open(warm_up=False)
    try:
        assert tokens._encoding is None
        conv, _ = await ledger.get_or_create_conversation(ConversationRecord(owner_id="cold", session_id="s"))
        stored = await ledger.append(conv, MessageRecord(role="user", content="hello there"))
        assert tokens._encoding is not None
        assert stored.token_count is not None and stored.token_count > 3
    finally:
        await ledger.close()
