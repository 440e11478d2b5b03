"""Small, pure helpers the adapters share: safe field access, counts, timestamps, headers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from convoledger.models.timeutil import ensure_utc

_FRACTION = re.compile(r"(\.\d{6})\d+")


def dig(obj: Any, *path: str | int) -> Any:
    """Follow ``path`` through nested dicts/lists; ``None`` as soon as a step is missing."""
    current = obj
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list | tuple) or not -len(current) <= step < len(current):
                return None
            current = current[step]
        else:
            if not isinstance(current, Mapping):
                return None
            current = current.get(step)
        if current is None:
            return None
    return current


def pick(obj: Any, *keys: str) -> Any:
    """The first non-``None`` value among ``keys`` of mapping ``obj`` (camelCase/snake_case aliases)."""
    if not isinstance(obj, Mapping):
        return None
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def count(value: Any) -> int:
    """A token count as a non-negative ``int``: ``None``/missing → 0, floats truncated.

    Raises ``ValueError`` for booleans, negative numbers and non-numeric values, so that a
    malformed usage object is reported instead of silently priced as zero.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"token count must be a number, got {value!r}")
    if value < 0:
        raise ValueError(f"token count must not be negative, got {value!r}")
    return int(value)


def as_str(value: Any) -> str | None:
    """``value`` as a non-empty string, else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value)
    return text or None


def parse_time(value: Any) -> datetime | None:
    """Aware UTC datetime from epoch seconds or ISO 8601 text (nanoseconds trimmed); ``None`` if absent.

    Returns ``None`` (rather than raising) for values that are not timestamps, because the time
    is informational and a provider's odd format must not make a whole response unparsable.
    """
    if value is None or isinstance(value, bool) or value == 0:
        return None
    if isinstance(value, str):
        value = _FRACTION.sub(r"\1", value.strip())
        if not value:
            return None
    try:
        return ensure_utc(value)
    except ValueError:
        return None


def lower_headers(headers: Any) -> dict[str, str]:
    """Headers as a ``{lower-case name: value}`` dict.

    Accepts a mapping (``dict``, ``httpx.Headers``), an iterable of ``(name, value)`` pairs, or
    ``None``. Raises ``ValueError`` for anything else.
    """
    if headers is None:
        return {}
    if isinstance(headers, Mapping):
        items: Iterable[Any] = headers.items()
    elif isinstance(headers, Iterable) and not isinstance(headers, str | bytes):
        items = headers
    else:
        raise ValueError(f"headers must be a mapping or (name, value) pairs, got {type(headers).__name__}")
    result: dict[str, str] = {}
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError) as exc:
            raise ValueError(f"header entry must be a (name, value) pair, got {item!r}") from exc
        result[str(name).lower()] = str(value)
    return result


def text_of(content: Any) -> str:
    """Concatenate the text in a message ``content`` (a string, or a list of parts with text)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(text_of(part) for part in content)
    if isinstance(content, Mapping):
        for key in ("text", "thinking", "content", "value"):
            if key in content:
                return text_of(content[key])
    return ""


__all__ = ["as_str", "count", "dig", "lower_headers", "parse_time", "pick", "text_of"]
