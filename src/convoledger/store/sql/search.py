"""Full-text search for the SQL store: the indexed word column and the match conditions.

Meaning (``store/base.py``): a message matches when its content contains every query word as a
whole word, case-insensitively, words being what ``querying.tokenize_for_search`` says (NFC,
lower-cased runs of Unicode letters, digits and combining marks). Every backend must agree, so
the SQL store does not let the database tokenize the raw content. Measured here, a database
tokenizer disagrees with that rule:

- PostgreSQL's parser keeps ``user@example.com``, ``example.com/path``, ``3.14`` and
  ``v1.2.3`` as single tokens (a search for ``example`` or ``3`` misses them), and
  ``to_tsvector`` raises "string is too long for tsvector" for a ~1.7 MB message, which a
  generated column would turn into a failed append;
- SQLite's ``unicode61`` uses Unicode 6.1 tables, so a later emoji glued to a word
  (``"thanks🤔"``) becomes part of the token, and it does not NFC-normalise.

Instead the store computes each message's word set once, at write time, with the shared
tokenizer, and stores it in ``messages.search_words``; each database indexes that column with its
own inverted index:

- SQLite: ``search_words`` is the words joined by spaces, indexed by the FTS5 table
  ``messages_fts`` (external content over ``messages``, ``content_rowid=row_id``, kept in sync by
  the triggers ``messages_fts_ai``/``_ad``/``_au``). Its tokenizer is ``ascii``: the column holds
  nothing but words and single spaces, so splitting on ASCII non-alphanumerics (only the spaces
  occur) yields exactly the stored words, and non-ASCII characters are never folded or split.
  A query is ``"w1" "w2" …``: each word quoted as an FTS5 string (a double quote would be
  doubled; words never contain one), which FTS5 reads as an implicit AND and never as syntax —
  user input cannot inject FTS5 operators.
- PostgreSQL: ``search_words`` is a ``text[]`` of the distinct words with a GIN index
  (``ix_messages_search_words``); a query is ``search_words @> $1::text[]`` (contains every word),
  a bound array parameter. Words are cut to ``MAX_WORD_CHARS`` characters on both sides so that
  no GIN entry exceeds PostgreSQL's index-row limit (two different words sharing their first 256
  characters would both match; no real text has such words).

``search_words`` is written by the store (append, import, edit, redact) from ``content``; a row
written by another program without it is simply not found by search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from convoledger.store.querying import search_terms, tokenize_for_search
from convoledger.store.sql import schema

#: Longest word (in characters) kept in the PostgreSQL index (4 bytes/char × 256 < the ~2.7 kB
#: GIN entry limit).
MAX_WORD_CHARS = 256

#: Name of the SQLite FTS5 table.
FTS_TABLE = "messages_fts"


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def words_of(content: str) -> set[str]:
    """``querying.tokenize_for_search(content)``, with a fast path for ASCII text.

    Exactly equivalent: ASCII text is already NFC, contains no combining mark, and on ASCII
    ``[^\\W_]`` (letters and digits) is ``[A-Za-z0-9]``; lower-casing ASCII before or after
    splitting is the same. Other text goes to the shared function (``tests/store_sql`` checks the
    equivalence on real and generated text).
    """
    if content.isascii():
        return set(_ASCII_WORD.findall(content.lower()))
    return tokenize_for_search(content)


def index_words(content: str, dialect_name: str) -> Any:
    """The ``messages.search_words`` value for ``content``: the distinct words joined by spaces on
    SQLite, a ``list[str]`` of them (cut to ``MAX_WORD_CHARS``) on PostgreSQL. Order does not
    matter (the indexes treat them as a set), so they are not sorted."""
    words = words_of(content)
    if dialect_name == "sqlite":
        return " ".join(words)
    return list({w[:MAX_WORD_CHARS] for w in words})


def fts5_query(terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression requiring every term: each quoted as an FTS5 string."""
    return " ".join('"' + t.replace('"', '""') + '"' for t in sorted(terms))


def search_parameter(query: str, dialect_name: str) -> Any:
    """The bound value of ``search_condition`` for the user's ``query`` (``ValueError`` when it
    has no word, as ``querying.search_terms`` rules)."""
    terms = search_terms(query)
    if dialect_name == "sqlite":
        return fts5_query(terms)
    return sorted({t[:MAX_WORD_CHARS] for t in terms})


def search_condition(dialect_name: str) -> sa.ColumnElement[bool]:
    """A WHERE condition on ``messages`` true for rows matching the bound parameter ``search``
    (see ``search_parameter``)."""
    m = schema.messages
    if dialect_name == "sqlite":
        fts = sa.table(FTS_TABLE, sa.column("rowid"))
        matching = sa.select(fts.c.rowid).where(
            sa.literal_column(FTS_TABLE).op("MATCH")(sa.bindparam("search", type_=sa.Text()))
        )
        return m.c.row_id.in_(matching)
    words = sa.bindparam("search", type_=postgresql.ARRAY(sa.Text()))
    return m.c.search_words.op("@>")(words)
