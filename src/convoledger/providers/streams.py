"""Turn whatever the caller holds into a JSON body or a list of stream events.

Accepted inputs (see :func:`decode_response`):

- a JSON body: ``dict``, or ``str``/``bytes`` holding one JSON object;
- an SDK object: anything with ``model_dump()`` (OpenAI, Anthropic, Mistral, google-genai …
  pydantic models) — dumped with wire names (``by_alias=True``);
- a complete stream:
  - Server-Sent Events text (``event:``/``data:`` lines, ``:`` comments, ``data: [DONE]``), per
    the WHATWG HTML "server-sent events" parsing rules (fields ``event`` and ``data``; several
    ``data`` lines of one event are joined with ``\\n``; a blank line dispatches the event);
  - NDJSON text (Ollama native streaming, one JSON object per line);
  - a JSON array of chunks (Gemini ``streamGenerateContent`` without ``alt=sse``);
  - AWS Bedrock ``converse-stream`` frames, either decoded (``{"headers": {":event-type": …},
    "payload": {…}}`` per frame, as JSON lines or dicts), as boto3 yields them
    (``{"messageStart": {…}}``, ``{"metadata": {…}}``), or as raw
    ``application/vnd.amazon.eventstream`` bytes (decoded with botocore's parser when botocore
    is installed);
  - a list (or any iterable) of event dicts or SDK chunk objects.

SSE events that carry an ``event:`` name and whose JSON data has no ``type`` field (OpenAI
Assistants streams) become ``{"event": name, "data": data}`` — the shape the OpenAI SDK's
``AssistantStreamEvent.model_dump()`` produces; events whose data has a ``type`` (Anthropic,
Responses) are kept as the data object.

Every function raises ``ValueError`` naming the problem for input it cannot decode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_SSE_FIELD = re.compile(r"^(data|event)(:|$)", re.MULTILINE)
_BEDROCK_MESSAGE_TYPE = ":message-type"
_BEDROCK_EVENT_TYPE = ":event-type"
_BEDROCK_EXCEPTION_TYPE = ":exception-type"


@dataclass(frozen=True)
class DecodedResponse:
    """A decoded response: exactly one of ``body`` (a JSON object) or ``events`` (stream events)."""

    body: dict[str, Any] | None = None
    events: list[dict[str, Any]] | None = None

    @property
    def is_stream(self) -> bool:
        """True when the response was a stream (``events`` is set)."""
        return self.events is not None


def dump_sdk_object(obj: Any) -> Any:
    """Return ``obj.model_dump()`` in wire form (JSON mode, aliases) for SDK objects, else ``obj``.

    Tries ``model_dump(mode="json", by_alias=True)`` and falls back to ``model_dump()`` for
    objects whose ``model_dump`` takes no such arguments.
    """
    dump = getattr(obj, "model_dump", None)
    if dump is None or not callable(dump):
        return obj
    try:
        return dump(mode="json", by_alias=True)
    except TypeError:
        return dump()


def decode_sse(text: str) -> list[dict[str, Any]]:
    """Parse Server-Sent-Events text into a list of event dicts (see the module docstring).

    ``data: [DONE]`` and comment lines are skipped. Raises ``ValueError`` when an event's data is
    not JSON or is not a JSON object.
    """
    events: list[dict[str, Any]] = []
    event_name: str | None = None
    data_lines: list[str] = []

    def dispatch() -> None:
        nonlocal event_name, data_lines
        if data_lines:
            data = "\n".join(data_lines)
            if data.strip() != "[DONE]":
                events.append(_sse_event(event_name, data))
        event_name = None
        data_lines = []

    for raw_line in text.splitlines():
        line = raw_line.rstrip("\r")
        if not line:
            dispatch()
            continue
        if line.startswith(":"):
            continue
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            data_lines.append(value)
        elif field == "event":
            event_name = value
        # "id" and "retry" fields carry nothing the ledger needs; unknown fields are ignored (WHATWG).
    dispatch()
    return events


def _sse_event(event_name: str | None, data: str) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"SSE event {event_name or '(unnamed)'!s} has non-JSON data: {data[:80]!r}") from exc
    if not isinstance(payload, dict):
        raise ValueError(f"SSE event data must be a JSON object, got {type(payload).__name__}")
    if event_name and "type" not in payload:
        return {"event": event_name, "data": payload}
    return payload


def decode_ndjson(text: str) -> list[dict[str, Any]]:
    """Parse newline-delimited JSON (one object per non-blank line). Raises ``ValueError``."""
    events: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"NDJSON line {number} is not JSON: {line[:80]!r}") from exc
        if not isinstance(obj, dict):
            raise ValueError(f"NDJSON line {number} must be a JSON object, got {type(obj).__name__}")
        events.append(obj)
    return events


def is_bedrock_frame(item: Mapping[str, Any]) -> bool:
    """True for a decoded event-stream frame ``{"headers": {":event-type": …}, "payload": …}``."""
    headers = item.get("headers")
    return (
        isinstance(headers, Mapping)
        and "payload" in item
        and (_BEDROCK_EVENT_TYPE in headers or _BEDROCK_MESSAGE_TYPE in headers)
    )


def decode_bedrock_frames(frames: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turn decoded Bedrock event-stream frames into boto3-style events.

    ``{"headers": {":event-type": "metadata", ":message-type": "event"}, "payload": {...}}``
    becomes ``{"metadata": {...}}`` (Bedrock's ``"p"`` padding field is dropped); an exception
    frame (``:message-type`` = ``exception``/``error``) becomes ``{"exception": {"type": name,
    **payload}}``. Raises ``ValueError`` for a frame without an event type.
    """
    events: list[dict[str, Any]] = []
    for frame in frames:
        headers = frame.get("headers") or {}
        payload = frame.get("payload")
        if isinstance(payload, str | bytes):
            payload = json.loads(payload) if payload else {}
        payload = {k: v for k, v in dict(payload or {}).items() if k != "p"}
        message_type = headers.get(_BEDROCK_MESSAGE_TYPE, "event")
        if message_type in ("exception", "error"):
            name = headers.get(_BEDROCK_EXCEPTION_TYPE) or headers.get(":error-code") or "exception"
            events.append({"exception": {"type": name, **payload}})
            continue
        name = headers.get(_BEDROCK_EVENT_TYPE)
        if not name:
            raise ValueError(f"Bedrock event-stream frame without {_BEDROCK_EVENT_TYPE!r} header: {headers}")
        events.append({name: payload})
    return events


def decode_eventstream_bytes(data: bytes) -> list[dict[str, Any]]:
    """Decode raw ``application/vnd.amazon.eventstream`` bytes into boto3-style events.

    Uses ``botocore.eventstream.EventStreamBuffer`` (prelude/CRC checks included); raises
    ``ValueError`` when botocore is not installed or the bytes are not a valid event stream.
    """
    try:
        from botocore.eventstream import EventStreamBuffer, ParserError
    except ImportError as exc:  # pragma: no cover - botocore is present where Bedrock is used
        raise ValueError(
            "decoding binary Bedrock event streams needs botocore (pip install botocore)"
        ) from exc
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(data))
    frames: list[dict[str, Any]] = []
    try:
        for message in buffer:
            payload = message.payload.decode("utf-8") if message.payload else "{}"
            frames.append({"headers": dict(message.headers), "payload": json.loads(payload)})
    except (ParserError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a valid Bedrock event stream: {exc}") from exc
    if not frames:
        raise ValueError("empty Bedrock event stream")
    return decode_bedrock_frames(frames)


def decode_text(text: str) -> DecodedResponse:
    """Decode a text response: JSON body, JSON array of chunks, SSE, or NDJSON/JSON lines."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty response text")
    if _SSE_FIELD.search(stripped) and not stripped.startswith(("{", "[")):
        events = decode_sse(stripped)
        if not events:
            raise ValueError("SSE stream contains no data events")
        return DecodedResponse(events=events)
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError:
            value = None  # maybe NDJSON: several objects, one per line
        if isinstance(value, dict):
            return DecodedResponse(body=value)
        if isinstance(value, list):
            return decode_items(value)
        if stripped.startswith("{"):
            return decode_items(decode_ndjson(stripped))
    raise ValueError(f"response text is neither JSON, NDJSON nor Server-Sent Events: {stripped[:60]!r}")


def decode_items(items: Iterable[Any]) -> DecodedResponse:
    """Decode a sequence of stream events (dicts or SDK objects); Bedrock frames are unwrapped."""
    events: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        value = dump_sdk_object(item)
        if not isinstance(value, dict):
            raise ValueError(
                f"stream event {index} must be a JSON object or SDK object, got {type(value).__name__}"
            )
        events.append(value)
    if not events:
        raise ValueError("empty stream: no events")
    if all(is_bedrock_frame(e) for e in events):
        events = decode_bedrock_frames(events)
    return DecodedResponse(events=events)


def decode_response(response: Any) -> DecodedResponse:
    """Decode any accepted response form (module docstring) into a body or a list of events.

    Raises ``ValueError`` for ``None``, empty input, undecodable text/bytes, and values of any
    other type (numbers, booleans, …).
    """
    if response is None:
        raise ValueError("response is None")
    if isinstance(response, bool | int | float):
        raise ValueError(f"response must be a JSON body, SDK object or stream, got {type(response).__name__}")
    value = dump_sdk_object(response)
    if isinstance(value, Mapping):
        if not value:
            raise ValueError("response is an empty JSON object")
        if is_bedrock_frame(value):
            return DecodedResponse(events=decode_bedrock_frames([value]))
        return DecodedResponse(body=dict(value))
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if data[:1] == b"\x00":
            return DecodedResponse(events=decode_eventstream_bytes(data))
        try:
            return decode_text(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError("response bytes are neither UTF-8 text nor a Bedrock event stream") from exc
    if isinstance(value, str):
        return decode_text(value)
    if isinstance(value, Iterable):
        return decode_items(value)
    raise ValueError(f"response must be a JSON body, SDK object or stream, got {type(value).__name__}")


__all__ = [
    "DecodedResponse",
    "decode_bedrock_frames",
    "decode_eventstream_bytes",
    "decode_items",
    "decode_ndjson",
    "decode_response",
    "decode_sse",
    "decode_text",
    "dump_sdk_object",
    "is_bedrock_frame",
]
