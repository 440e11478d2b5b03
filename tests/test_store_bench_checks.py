"""bench/store_bench.py: the verdicts against the issue's targets (``evaluate``).

The benchmark itself is not a test (speed targets live in bench/); what is tested here is that
its judging reads a report the way its docstring says: a ratio target against the same-schema raw
baseline and, separately, against the minimal one, and the bulk target as an absolute figure.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "store_bench.py"


@pytest.fixture(scope="module")
def store_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("store_bench_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _report(values: dict[str, dict[str, float]], pairs: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "results": {
            name: {metric: {"median": v, "median_p99": None} for metric, v in metrics.items()}
            for name, metrics in values.items()
        },
        "pairs": pairs,
    }


def test_ratio_targets_are_judged_against_each_baseline(store_bench: ModuleType) -> None:
    report = _report(
        {
            "raw sqlite3": {"batch_msgs_per_s": 20_000.0, "recent20_us": 250.0},
            "raw sqlite3 min": {"batch_msgs_per_s": 34_000.0, "recent20_us": 170.0},
            "sqlite": {"batch_msgs_per_s": 15_000.0, "recent20_us": 260.0},
        },
        {"sqlite": ["raw sqlite3", "raw sqlite3 min"]},
    )
    checks = {c["metric"]: c for c in store_bench.evaluate(report)}
    assert set(checks) == {"batch_msgs_per_s", "recent20_us"}  # no other metric was measured

    batch = checks["batch_msgs_per_s"]  # target >= 0.5x
    assert batch["ratio"] == pytest.approx(0.75) and batch["pass"] is True
    assert batch["ratio_minimal"] == pytest.approx(15_000 / 34_000) and batch["pass_minimal"] is False
    assert batch["schema_ratio"] == pytest.approx(20_000 / 34_000)
    assert batch["raw_same_meets_minimal"] is True  # 0.59x >= 0.5x

    recent = checks["recent20_us"]  # target <= 1.2x (a latency: lower is better)
    assert recent["ratio"] == pytest.approx(1.04) and recent["pass"] is True
    assert recent["pass_minimal"] is False  # 1.53x
    assert recent["raw_same_meets_minimal"] is False  # 1.47x > 1.2x


def test_a_ratio_target_fails_when_the_store_is_too_slow_against_the_same_schema(
    store_bench: ModuleType,
) -> None:
    report = _report(
        {
            "raw asyncpg": {"single_appends_per_s": 2_000.0},
            "raw asyncpg min": {"single_appends_per_s": 2_100.0},
            "postgres": {"single_appends_per_s": 1_300.0},
        },
        {"postgres": ["raw asyncpg", "raw asyncpg min"]},
    )
    (check,) = store_bench.evaluate(report)
    assert check["target"] == ">= 0.7x raw"
    assert check["pass"] is False and check["pass_minimal"] is False  # 0.65x and 0.62x


def test_bulk_import_is_an_absolute_target(store_bench: ModuleType) -> None:
    def bulk(rate: float) -> dict[str, Any]:
        report = _report(
            {
                "raw sqlite3": {"bulk_import_msgs_per_s": 10.0},
                "raw sqlite3 min": {"bulk_import_msgs_per_s": 10.0},
                "sqlite": {"bulk_import_msgs_per_s": rate},
            },
            {"sqlite": ["raw sqlite3", "raw sqlite3 min"]},
        )
        (check,) = store_bench.evaluate(report)
        return check  # type: ignore[no-any-return]

    assert bulk(49_999.0)["pass"] is False  # the raw figures (10/s) do not matter
    assert bulk(50_000.0)["pass"] is True
    assert "ratio" not in bulk(50_000.0)
