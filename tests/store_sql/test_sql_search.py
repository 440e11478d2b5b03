"""Full-text search of the SQL store agrees with the shared rule (``querying``), on real text and
on the inputs where database tokenizers disagree (emails, URLs, numbers, emoji glued to words,
decomposed accents), and is safe from FTS syntax."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sql_test_helpers import real_texts, sqlite_url

from convoledger.models.records import ConversationRecord, MessageRecord
from convoledger.store.base import MessageQuery
from convoledger.store.querying import matches_search, tokenize_for_search
from convoledger.store.sql import SqlStore
from convoledger.store.sql.search import fts5_query, words_of

TRICKY = [
    "mail me at user@example.com or visit https://example.org/docs?q=3.14",
    "version v1.2.3 of state-of-the-art snake_case code",
    "thanks🤔 great🥐 job",
    "cafe\u0301 with e\u0301clair (decomposed) and café (composed)",
    "C'est l'été — «déjà vu», naïve Zoë",
    "数字123 and 日本語テキスト",
    'NEAR("a" "b") OR NOT AND * ^ col:val "unbalanced',
    "ÄRGER with Straße and ǅemal",
]

QUERIES = [
    "example",
    "3",
    "14",
    "org docs",
    "v1",
    "state art",
    "snake",
    "case",
    "thanks",
    "great",
    "café",
    "éclair",
    "ÉTÉ",
    "zoë",
    "日本語テキスト",
    "数字123",
    "OR",
    "NEAR",
    "col val",
    "unbalanced",
    "ärger straße",
    "ǆemal",
]


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_fast_tokenizer_equals_the_shared_one(text: str) -> None:
    assert words_of(text) == tokenize_for_search(text)


def test_fast_tokenizer_equals_the_shared_one_on_real_text() -> None:
    for text in real_texts(3000) + TRICKY:
        assert words_of(text) == tokenize_for_search(text), text


def test_fts5_queries_quote_every_word() -> None:
    assert fts5_query({"or", "near"}) == '"near" "or"'
    assert fts5_query({'a"b'}) == '"a""b"'


async def _search_agrees(url: str) -> None:
    owner = f"owner-{uuid.uuid4()}"
    texts = real_texts(600) + TRICKY
    store = SqlStore(url)
    await store.open()
    try:
        conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        stored = await store.append_messages(
            owner, conv.id, [MessageRecord(role="user", content=t) for t in texts]
        )
        rng = random.Random(3)
        sampled = []
        for text in rng.sample(texts, 40):
            words = sorted(tokenize_for_search(text))
            if words:
                sampled.append(" ".join(rng.sample(words, min(2, len(words)))))
        for query in QUERIES + sampled:
            expected = [m.id for m in stored if matches_search(m.content, query)]
            found = await store.list_messages(owner, conv.id, MessageQuery(search=query))
            assert [m.id for m in found] == expected, query
            assert await store.count_messages(owner, conv.id, MessageQuery(search=query)) == len(expected)
            last = await store.list_messages(owner, conv.id, MessageQuery(search=query, last=2))
            assert [m.id for m in last] == expected[-2:], query
    finally:
        await store.close()


async def test_sqlite_search_agrees_with_the_shared_rule(tmp_path: Path) -> None:
    await _search_agrees(sqlite_url(tmp_path / "search.db"))


@pytest.mark.postgres
async def test_postgres_search_agrees_with_the_shared_rule(postgres_url: str) -> None:
    await _search_agrees(postgres_url)


async def _huge_message(url: str) -> None:
    # ~1.7 MB of distinct words: PostgreSQL's to_tsvector refuses this ("string is too long for
    # tsvector"), which is why the store indexes its own word set (search.py).
    rng = random.Random(1)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(alphabet, k=rng.randint(3, 12))) for _ in range(200_000)]
    words.append("needleattheend")
    owner = f"owner-{uuid.uuid4()}"
    store = SqlStore(url)
    await store.open()
    try:
        conv = await store.create_conversation(owner, ConversationRecord(owner_id=owner))
        [big] = await store.append_messages(
            owner, conv.id, [MessageRecord(role="tool", content=" ".join(words))]
        )
        [found] = await store.list_messages(owner, conv.id, MessageQuery(search="needleattheend"))
        assert found.id == big.id and len(found.content) > 1_500_000
    finally:
        await store.close()


async def test_huge_message_is_stored_and_searchable_on_sqlite(tmp_path: Path) -> None:
    await _huge_message(sqlite_url(tmp_path / "huge.db"))


@pytest.mark.postgres
async def test_huge_message_is_stored_and_searchable_on_postgres(postgres_url: str) -> None:
    await _huge_message(postgres_url)
