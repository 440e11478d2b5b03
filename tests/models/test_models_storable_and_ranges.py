"""The pure rules behind issue 16 items 1-2: ``models.storable`` (no NUL characters in stored
text) and the bounds of ``UtcDatetime`` and of stored counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from convoledger.models.records import MAX_INT64, MessageRecord
from convoledger.models.storable import UnstorableText, check_storable, find_nul, may_hold_nul
from convoledger.models.timeutil import MAX_DATETIME, MIN_DATETIME, check_in_range, ensure_utc


@dataclass
class _Query:
    search: str | None
    tags: tuple[str, ...] = ()


def test_find_nul_names_the_path() -> None:
    assert find_nul({"a": [1, {"b": "x\x00"}]}, "extra_data") == "extra_data.a[1].b"
    assert find_nul({"k\x00": 1}, "metadata") == "metadata.k\\u0000 (key)"
    assert find_nul(MessageRecord(role="user", content="\x00"), "") == "content"
    assert find_nul(_Query(search=None, tags=("ok", "\x00")), "") == "tags[1]"
    assert find_nul("\x00") == "value"
    assert find_nul({"fine": ["text", 1, 2.5, None, True]}) is None


def test_check_storable_raises_a_value_error_naming_the_field() -> None:
    with pytest.raises(UnstorableText) as caught:
        check_storable(["a", "b\x00"], "messages")
    assert caught.value.field == "messages[1]"
    assert isinstance(caught.value, ValueError)
    check_storable({"no": "nul"}, "x")


@given(st.text())
def test_a_text_is_storable_exactly_when_it_has_no_nul(text: str) -> None:
    assert (find_nul({"t": text}) is None) == ("\x00" not in text)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T00:00:00Z",
    ],
)
def test_times_outside_the_range_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        MessageRecord(role="user", created_at=value)


def test_the_range_edges_and_overflow() -> None:
    assert check_in_range(MIN_DATETIME) == MIN_DATETIME
    assert check_in_range(MAX_DATETIME) == MAX_DATETIME
    assert MessageRecord(role="user", created_at="0001-01-02T00:00:00Z").created_at == MIN_DATETIME
    with pytest.raises(ValueError, match="out of range"):
        ensure_utc(datetime(9999, 12, 31, 23, 0).replace(tzinfo=None).isoformat() + "-14:00")
    with pytest.raises(ValueError):
        ensure_utc("0.5")
    assert ensure_utc(0.5) == datetime(1970, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_counts_are_int64() -> None:
    assert MessageRecord(role="user", seq=MAX_INT64).seq == MAX_INT64
    with pytest.raises(ValidationError):
        MessageRecord(role="user", seq=MAX_INT64 + 1)
    with pytest.raises(ValidationError):
        MessageRecord(role="user", seq=-1)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(alphabet="a\x00\\u0"),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet="k\x00\\u0", max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(_json_values)
def test_the_one_pass_check_never_misses_a_nul(value: object) -> None:
    """``may_hold_nul`` (the fast pre-check of ``check_storable``) answers True whenever the
    field-by-field walk finds a NUL, also for texts holding a literal backslash-u-0000."""
    if find_nul(value) is not None:
        assert may_hold_nul(value)
    record = MessageRecord(role="user", content="ok", extra_data={"v": value})
    if find_nul(record) is not None:
        assert may_hold_nul(record)
        with pytest.raises(UnstorableText):
            check_storable(record, "")
    else:
        check_storable(record, "")
