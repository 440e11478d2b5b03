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
  ``messages_fts`` (external content over ``messages``, ``content_rowid=row_id``; new rows are
  indexed in batches behind a watermark, see below). Its tokenizer is ``ascii``: the column holds
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

Deferred indexing on SQLite (migration 0002). Indexing each appended row by trigger made every
append write a new FTS5 segment in its own transaction: measured here (raw sqlite3 on the store's
schema), ~45 % of the database time of a one-message append (140 → 77 µs without it) and ~35 % of
a ten-message one (366 → 237 µs). So an append writes only the message row,
and the single-row table ``messages_fts_state`` holds the watermark ``indexed_upto``:

- invariant: every message with ``row_id <= indexed_upto`` is in ``messages_fts`` with its
  current ``search_words``; no message above it is;
- ``SQLITE_INDEX_PENDING`` indexes every row above the watermark in one statement and
  ``SQLITE_RAISE_WATERMARK`` moves the watermark to ``max(row_id)``, both in one write
  transaction (``BEGIN IMMEDIATE``, so no other writer of any process runs in between; measured
  ~2 µs per row in batches of 256, against ~13 µs per row through the trigger in ten-message
  appends and ~60 µs in one-message appends);
- before every search (``list_messages``/``count_messages`` with ``search``) the store runs that
  catch-up on its writer connection, then queries: every message committed before the search
  began is indexed, and what the search sees is a prefix of commit order (rows committed later
  have higher row ids, above the watermark);
- an append or import whose transaction leaves ``INDEX_BATCH_ROWS`` or more rows pending indexes
  them in that transaction, so the work a search may have to do first stays bounded;
- the triggers ``messages_fts_ad``/``_au`` change the index only for rows below the watermark;
  deleting the newest rows lowers it to the new ``max(row_id)``, because SQLite gives a new row
  ``max(row_id) + 1`` and a reused id below the watermark would never be indexed.

FTS5's ``'integrity-check'`` holds only when nothing is pending. Whoever rebuilds the index by
hand (``'rebuild'``) must set ``indexed_upto`` to ``max(row_id)`` in the same transaction.
"""

from __future__ import annotations

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

#: SQLite: pending (un-indexed) rows at which an append or import indexes them itself. A batch
#: statement costs about the same for 1 or 256 rows up to the segment it writes, so larger means
#: fewer FTS5 segments and merges; smaller means less work left for the next search.
INDEX_BATCH_ROWS = 256

# SQLite deferred-indexing statements (text, not Core: FTS5 commands have no Core form). The
# watermark table has exactly one row (id = 1), created by migration 0002.
#: ``(indexed_upto, max(row_id))``: the watermark and the newest message row.
SQLITE_PENDING = (
    "SELECT indexed_upto, (SELECT coalesce(max(row_id), 0) FROM messages) FROM messages_fts_state"
)
#: Index every message above the watermark (run inside the write transaction).
SQLITE_INDEX_PENDING = (
    "INSERT INTO messages_fts(rowid, search_words) SELECT row_id, coalesce(search_words, '') "
    "FROM messages WHERE row_id > (SELECT indexed_upto FROM messages_fts_state)"
)
#: Move the watermark to the newest row (after ``SQLITE_INDEX_PENDING``, same transaction).
SQLITE_RAISE_WATERMARK = (
    "UPDATE messages_fts_state SET indexed_upto = (SELECT coalesce(max(row_id), 0) FROM messages)"
)


#: Byte table mapping every ASCII byte that is not a letter or digit to a space.
_ASCII_SEPARATORS = bytes(c if chr(c).isascii() and chr(c).isalnum() else ord(" ") for c in range(256))


def words_of(content: str) -> set[str]:
    """``querying.tokenize_for_search(content)``, with a fast path for ASCII text.

    Exactly equivalent: ASCII text is already NFC, contains no combining mark, and on ASCII
    ``[^\\W_]`` (letters and digits) is ``[A-Za-z0-9]``; lower-casing ASCII before or after
    splitting is the same, so the words are the runs of ``[a-z0-9]`` of the lower-cased text,
    found here with byte operations (every other byte becomes a space, then ``split``; ~30 %
    faster than the regular expression ``[a-z0-9]+``, measured on the chitchat corpus). Other
    text goes to the shared function (``tests/store_sql`` checks the equivalence on real and
    generated text).
    """
    if content.isascii():
        return set(content.encode("ascii").lower().translate(_ASCII_SEPARATORS).decode("ascii").split())
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
