"""UTC time helpers: every datetime at rest and on the wire is timezone-aware UTC.

Rule (DESIGN.md, invariant 8): naive input is taken to be UTC; aware input in another zone is
converted to UTC. Floats and ints are POSIX epoch seconds; strings are ISO 8601.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator


def utcnow() -> datetime:
    """Return the current time as an aware UTC ``datetime``."""
    return datetime.now(UTC)


def ensure_utc(value: datetime | float | int | str) -> datetime:
    """Coerce ``value`` to an aware UTC ``datetime``.

    Accepts a ``datetime`` (naive = UTC), a POSIX epoch in seconds (``int``/``float``) or an
    ISO 8601 string (a trailing ``Z`` is accepted). Raises ``ValueError`` for anything else,
    including unparsable strings, booleans and non-finite numbers.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float):
        try:
            dt = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"epoch seconds out of range: {value!r}") from exc
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from exc
    else:
        raise ValueError(f"not a timestamp: {value!r} ({type(value).__name__})")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def isoformat(value: datetime) -> str:
    """Serialise an aware datetime as ISO 8601 in UTC (``+00:00`` offset)."""
    return ensure_utc(value).isoformat()


#: A pydantic field type: an aware UTC ``datetime`` (naive, epoch and ISO inputs accepted).
UtcDatetime = Annotated[datetime, BeforeValidator(ensure_utc)]
