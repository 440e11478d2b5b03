"""Issue 16 "Deliver": schemathesis over ``/openapi.json``, every operation, against a real
``convoledger serve`` on SQLite and on PostgreSQL, authenticated as an account with data.

Checks: no 5xx (``not_a_server_error``), and the response's status, content type and body
conform to the OpenAPI document (``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``). Examples are bounded (``MAX_EXAMPLES`` per operation, no
shrinking, no example database) so the two backends finish in a few minutes.
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from serve_process import ServeProcess

#: Generated requests per operation and backend.
MAX_EXAMPLES = 12

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _seed(hard: ServeProcess) -> None:
    """One session with a message and a memory entry in account ``a``, so reads find data."""
    with hard.client("a") as client:
        r = client.post("/api/agent-sessions", json={"session_id": "schemathesis", "name": "probe"})
        assert r.status_code in (201, 409), r.text
        client.post(
            "/api/agent-sessions/schemathesis/messages", json={"id": "m1", "role": "user", "content": "hi"}
        )
        client.put("/api/agent-sessions/schemathesis/memory/k", json={"value": {"a": 1}})


def _run_operation(
    operation: APIOperation, mode: GenerationMode, headers: dict[str, str], timeout: float
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        phases=[Phase.explicit, Phase.generate],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=timeout)

    run()


def _streams(operation: APIOperation) -> bool:
    """True for a live event stream (SSE): a valid request never ends, so only its invalid
    requests are generated here (its valid ones are ``tests/events``' subject)."""
    ok = operation.definition.raw.get("responses", {}).get("200", {})
    return "text/event-stream" in ok.get("content", {})


def test_every_operation_conforms(hard: ServeProcess) -> None:
    _seed(hard)
    schema = schemathesis.openapi.from_url(f"{hard.base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    timings: list[tuple[float, str]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        modes = [GenerationMode.NEGATIVE] if _streams(operation) else list(GenerationMode)
        for mode in modes:
            started = time.monotonic()
            try:
                _run_operation(operation, mode, hard.headers["a"], 3 if _streams(operation) else 30)
            except Unsatisfiable:
                continue  # negative mode of an operation with nothing to break (no parameters)
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
            finally:
                timings.append((time.monotonic() - started, f"{operation.label} [{mode.value}]"))
    print("slowest:", sorted(timings, reverse=True)[:5])
    assert operations >= 30, f"only {operations} operations in the OpenAPI document"
    assert not failures, f"{len(failures)} failing operations:\n" + "\n\n".join(failures)
