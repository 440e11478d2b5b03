"""Multi-row INSERT chunking on SQLite: few distinct statement shapes, every row written once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from convoledger.store.sql.sqlite_driver import _row_chunks


@given(rows=st.integers(min_value=0, max_value=50_000), max_rows=st.integers(min_value=1, max_value=4_000))
def test_chunks_cover_every_row_with_bounded_power_of_two_sizes(rows: int, max_rows: int) -> None:
    chunks = _row_chunks(rows, max_rows)
    assert sum(chunks) == rows
    assert all(c > 0 and c & (c - 1) == 0 and c <= max_rows for c in chunks)
    assert chunks == sorted(chunks, reverse=True)


def test_distinct_shapes_stay_logarithmic_over_all_batch_sizes() -> None:
    shapes = {size for rows in range(1, 2_001) for size in _row_chunks(rows, 1_927)}
    assert shapes == {1 << k for k in range(11)}  # 1, 2, 4, …, 1024: eleven statements at most
