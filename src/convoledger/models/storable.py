"""What every backend can store: text without NUL characters (U+0000).

The rule (issue 16 item 1): a NUL character anywhere in a text the ledger would store or look
up — message content, ``extra_data`` keys and values, sender, ids, ``session_id``, metadata,
memory keys and values, filters, search terms, bundle contents — is refused with
``UnstorableText`` (a ``ValueError``: the API answers 422 naming the field), the same on all
four backends. Why refuse rather than store: PostgreSQL ``text`` and ``jsonb`` cannot hold
U+0000 at all (PostgreSQL docs, "Character Types": "the character with code zero … cannot be
stored"), so a NUL accepted by SQLite, the JSON files or memory would make an export that
PostgreSQL cannot import. Refusing everywhere keeps export → import portable between backends.

Pure functions, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from pydantic import BaseModel

NUL = "\x00"


class UnstorableText(ValueError):
    """A text holds a NUL character (U+0000), which no backend stores.

    ``field`` names where it is: a dotted path such as ``content``, ``extra_data.<key>``,
    ``messages[2].sender`` or ``metadata.<key> (key)`` when the NUL is in a mapping key.
    """

    def __init__(self, field: str) -> None:
        super().__init__(f"{field}: text must not contain the NUL character (U+0000)")
        self.field = field


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def find_nul(value: Any, path: str = "") -> str | None:
    """The path of the first NUL character in ``value`` (a str, a JSON value — dicts, lists,
    tuples, scalars —, a pydantic model or a dataclass instance; other objects are not
    walked), or ``None`` when there is none. Mapping keys are checked too (reported as
    ``<path>.<key> (key)``); ``path`` is the name of ``value`` itself."""
    if isinstance(value, str):
        return (path or "value") if NUL in value else None
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found = find_nul(getattr(value, name), _join(path, name))
            if found is not None:
                return found
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            found = find_nul(getattr(value, item.name), _join(path, item.name))
            if found is not None:
                return found
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            if NUL in key_text:
                shown = key_text.replace(NUL, r"\u0000")
                return f"{_join(path, shown)} (key)"
            found = find_nul(item, _join(path, key_text))
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path or 'value'}[{index}]")
            if found is not None:
                return found
        return None
    return None


def _walked(value: Any) -> Any:
    """orjson's ``default``: what ``find_nul`` walks into (models and non-dict mappings), and
    ``None`` for every other object (not walked)."""
    if isinstance(value, BaseModel):
        return {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, Mapping):
        return dict(value)
    return None


#: A NUL as orjson writes it inside a JSON string.
_ESCAPED_NUL = b"\\u0000"


def may_hold_nul(value: Any) -> bool:
    """``False`` only when ``value`` certainly holds no NUL where ``find_nul`` looks: one orjson
    pass (C, ~1 µs for a message) in which a NUL can only appear escaped as ``\\u0000``; a
    literal backslash-u-0000 text gives a false ``True``, and values orjson cannot write (ints
    beyond 64 bits, non-JSON keys) give ``True``, so ``find_nul`` decides then."""
    if isinstance(value, str):
        return NUL in value
    try:
        raw = orjson.dumps(value, default=_walked, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return True
    return _ESCAPED_NUL in raw


def check_storable(value: Any, field: str) -> None:
    """Raise ``UnstorableText`` naming the path under ``field`` when ``value`` holds a NUL
    character anywhere (see ``find_nul``); return ``None`` otherwise. Values without a NUL
    take the one-pass ``may_hold_nul`` check; only the others are walked field by field."""
    if not may_hold_nul(value):
        return
    found = find_nul(value, field)
    if found is not None:
        raise UnstorableText(found)


def check_all_storable(named: Iterable[tuple[str, Any]]) -> None:
    """``check_storable`` for each ``(field, value)`` pair, in order (the first NUL raises)."""
    for field, value in named:
        check_storable(value, field)
