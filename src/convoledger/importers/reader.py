"""Streaming reader of record files: gzip or plain; JSONL, a JSON array, or JSON document(s).

``open_records(path)`` yields ``(position, record)`` pairs one at a time and never holds more
than one record (plus an I/O buffer) in memory, whatever the file size:

- compression: gzip when the file starts with the gzip magic bytes ``1f 8b`` (RFC 1952), else
  plain; a UTF-8 byte-order mark is skipped;
- layout, from the first non-blank byte: ``[`` → one JSON array, whose items are streamed one by
  one with ``ijson`` (position = 1-based item index); ``{`` (or anything else) whose first line
  is a complete JSON value → JSONL (position = 1-based line number; blank lines are skipped but
  counted); ``{`` whose first line is not complete JSON (a pretty-printed document) → a stream
  of top-level JSON documents (position = 1-based document index).

A JSONL line that is not valid JSON is yielded as ``UnreadableRecord`` (with the decoder's
message) and reading goes on with the next line. In a JSON array or document stream the
parser cannot resynchronise after a syntax error, so it yields one ``UnreadableRecord`` at the
position of the failing item and stops. Numbers are Python ``int``/``float`` (never
``Decimal``). ``ValueError`` when the gzip stream itself is corrupt or truncated.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os import PathLike
from typing import Any

import ijson  # type: ignore[import-untyped]
import orjson

GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class UnreadableRecord:
    """Stands in for a record that could not be decoded; ``reason`` says why."""

    reason: str


class _Prefixed:
    """A read()-able stream that first returns ``prefix`` and then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: io.BufferedReader) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size < 0 or size >= len(self._prefix):
                head, self._prefix = self._prefix, b""
                rest = self._stream.read(-1 if size < 0 else size - len(head))
                return head + rest
            head, self._prefix = self._prefix[:size], self._prefix[size:]
            return head
        return self._stream.read(size)


@contextlib.contextmanager
def _open_binary(path: str | PathLike[str]) -> Iterator[tuple[io.BufferedReader, io.FileIO]]:
    """The decoded byte stream of ``path`` (gunzipped when it starts with the gzip magic) and the
    raw file under it, whose ``tell()`` is how many bytes of the file were read so far."""
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(io.FileIO(path, "rb"))
        magic = raw.read(2)
        raw.seek(0)
        if magic == GZIP_MAGIC:
            decoded: Any = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        else:
            decoded = raw
        yield stack.enter_context(io.BufferedReader(decoded, buffer_size=1 << 16)), raw


def _skip_leading_blank(fh: io.BufferedReader) -> tuple[bytes, int]:
    """Consume the BOM and leading whitespace; return (first significant byte or b"", newlines)."""
    newlines = 0
    first = True
    while True:
        chunk = fh.peek(1 << 12)
        if not chunk:
            return b"", newlines
        if first and chunk.startswith(_BOM):
            fh.read(len(_BOM))
            first = False
            continue
        first = False
        stripped = chunk.lstrip(_WHITESPACE)
        skipped = len(chunk) - len(stripped)
        newlines += chunk.count(b"\n", 0, skipped)
        if stripped:
            # Keep the leading whitespace of the significant line (only whole lines are dropped).
            last_nl = chunk.rfind(b"\n", 0, skipped)
            fh.read(last_nl + 1 if last_nl >= 0 else 0)
            return stripped[:1], newlines
        fh.read(len(chunk))


def open_records(
    path: str | PathLike[str], on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """Yield ``(position, record)`` from the file at ``path``, streaming (see module docstring).

    ``record`` is the decoded JSON value, or an ``UnreadableRecord`` for an undecodable one.
    ``on_bytes(n)`` (optional) is called before each record is yielded, and once at the end,
    with ``n`` = bytes of the file read so far (of the compressed file for gzip; reading runs
    up to 64 KiB ahead), for progress against the file's size. Raises
    ``FileNotFoundError``/``OSError`` if the file cannot be opened or read and ``ValueError``
    if its gzip stream is corrupt or truncated (records before the break were yielded).
    """
    with _open_binary(path) as (fh, raw):
        try:
            for item in _records(fh):
                if on_bytes is not None:
                    on_bytes(raw.tell())
                yield item
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip stream ({exc})") from exc
        if on_bytes is not None:
            on_bytes(raw.tell())


def _records(fh: io.BufferedReader) -> Iterator[tuple[int, Any]]:
    head, newlines = _skip_leading_blank(fh)
    if not head:
        return
    if head == b"[":
        yield from _json_values(fh, "item")
        return
    first_line = fh.readline()
    if head == b"{" and not _looks_like_jsonl(first_line):
        yield from _json_values(_Prefixed(first_line, fh), "")
        return
    line_no = newlines
    for raw in _chain_first(first_line, fh):
        line_no += 1
        if not raw.strip():
            continue
        try:
            yield line_no, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield line_no, UnreadableRecord(f"invalid JSON: {exc}")


def _chain_first(first: bytes, fh: io.BufferedReader) -> Iterator[bytes]:
    yield first
    yield from fh


def _looks_like_jsonl(first_line: bytes) -> bool:
    """True when the first line is a whole JSON value (or at least closes like one)."""
    try:
        orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return first_line.rstrip().endswith(b"}") and first_line.strip() != b"}"
    return True


def _json_values(stream: Any, prefix: str) -> Iterator[tuple[int, Any]]:
    """Stream the array items (``prefix="item"``) or top-level documents (``""``) with ijson."""
    position = 0
    values = ijson.items(stream, prefix, use_float=True, multiple_values=(prefix == ""))
    try:
        for value in values:
            position += 1
            yield position, value
    except ijson.JSONError as exc:
        yield position + 1, UnreadableRecord(f"invalid JSON (reading stops here): {exc}")
