"""UTC time helpers: every datetime at rest and on the wire is timezone-aware UTC.

Rule (DESIGN.md, invariant 8): naive input is taken to be UTC; aware input in another zone is
converted to UTC. Floats and ints are POSIX epoch seconds; strings are ISO 8601.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

#: The earliest and latest instants the ledger stores (issue 16 item 2): one day inside Python's
#: ``datetime`` range, so that any UTC offset can be applied to a stored time without overflow,
#: and inside what SQLite text and PostgreSQL ``timestamptz`` (via asyncpg) round-trip.
MIN_DATETIME = datetime(1, 1, 2, tzinfo=UTC)
MAX_DATETIME = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)


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
    try:
        return dt.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-14:00 is in the year 10000 in UTC
        raise ValueError(f"{value!r} is out of range once converted to UTC") from exc


def check_in_range(value: datetime) -> datetime:
    """Return the aware UTC ``value`` when it lies within ``MIN_DATETIME`` .. ``MAX_DATETIME``
    (0001-01-02 to 9999-12-30 UTC); ``ValueError`` otherwise."""
    if not MIN_DATETIME <= value <= MAX_DATETIME:
        raise ValueError(
            f"{value.isoformat()} is out of range: times must lie between "
            f"{MIN_DATETIME.date().isoformat()} and {MAX_DATETIME.date().isoformat()} UTC"
        )
    return value


def isoformat(value: datetime) -> str:
    """Serialise an aware datetime as ISO 8601 in UTC (``+00:00`` offset)."""
    return ensure_utc(value).isoformat()


#: A pydantic field type: an aware UTC ``datetime`` (naive, epoch and ISO inputs accepted) within
#: ``MIN_DATETIME`` .. ``MAX_DATETIME``; anything else is a validation error (→ 422 in the API).
UtcDatetime = Annotated[datetime, BeforeValidator(ensure_utc), AfterValidator(check_in_range)]
