"""Seed 000's "Maintenance Guide" and "Monitoring and Logging", as written: the seed's own
functions run verbatim against convoledger's models (their printed lines checked), beside
convoledger's homes for them (``convoledger.model_maintenance``), including where the seed's code
is wrong and convoledger fixes the behaviour (the health check, the isolation check, in-place
migration, unbounded monitor lists).
"""

from __future__ import annotations

import copy
import logging
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pytest

from convoledger import (
    AgentCommunicationMessage,
    ConversationModelsLogger,
    ConversationModelsMonitor,
    ConversationParticipant,
    ConversationSession,
    check_data_consistency,
    create_session_key,
    migrate_models_to_new_version,
    validate_conversation_isolation_pattern,
    validate_models_health,
)


# -- the seed's functions, verbatim (only print → the captured stdout) ---------------------------
def seed_validate_models_health():  # type: ignore[no-untyped-def]
    """Validate model health status"""
    try:
        # Test participant creation
        participant = ConversationParticipant(
            participant_id="test_001", participant_type="agent", participant_role="test_role"
        )
        print("✅ ConversationParticipant validation passed")

        # Test session creation
        session = ConversationSession(  # noqa: F841
            session_id="test_session",
            participants=[participant],
            session_type="user_to_agent",
            created_at=datetime.utcnow(),
            last_activity=datetime.utcnow(),
        )
        print("✅ ConversationSession validation passed")

        # Test message creation
        message = AgentCommunicationMessage(  # noqa: F841
            message_id=str(uuid.uuid4()),
            session_key="test_key",
            sender_id="sender_001",
            sender_type="agent",
            sender_role="test_role",
            recipient_id="recipient_001",
            recipient_type="agent",
            recipient_role="test_role",
            content="Test message",
            message_type="communication",
            timestamp=datetime.utcnow(),
        )
        print("✅ AgentCommunicationMessage validation passed")

        return True

    except Exception as e:  # noqa: BLE001 - the seed's code
        print(f"❌ Model validation failed: {e}")
        return False


def seed_check_data_consistency(session: ConversationSession):  # type: ignore[no-untyped-def]
    """Check session data consistency"""
    try:
        # Check session key generation
        generated_key = session.generate_session_key()
        expected_key = create_session_key(session.session_id, session.session_type, session.participants)

        if generated_key != expected_key:
            print(f"❌ Session key mismatch: {generated_key} vs {expected_key}")
            return False

        # Check participant validation
        for participant in session.participants:
            if not participant.participant_id:
                print("❌ Empty participant_id found")
                return False

        # Check session type validation
        if not validate_conversation_isolation_pattern(generated_key, session.session_type):
            print("❌ Session type validation failed")
            return False

        print("✅ Data consistency check passed")
        return True

    except Exception as e:  # noqa: BLE001 - the seed's code
        print(f"❌ Data consistency check failed: {e}")
        return False


def seed_diagnose_participant_validation_error():  # type: ignore[no-untyped-def]
    """Diagnose participant validation errors"""
    try:
        # Test empty participant ID
        participant = ConversationParticipant("", "user")  # noqa: F841
    except ValueError as e:
        print(f"✅ Empty participant_id validation: {e}")

    try:
        # Test invalid participant type
        participant = ConversationParticipant("test", "invalid_type")  # noqa: F841
    except ValueError as e:
        print(f"✅ Invalid participant_type validation: {e}")

    try:
        # Test agent without role
        participant = ConversationParticipant("test", "agent")  # noqa: F841
    except ValueError as e:
        print(f"✅ Agent without role validation: {e}")


def seed_diagnose_session_validation_error():  # type: ignore[no-untyped-def]
    """Diagnose session validation errors"""
    try:
        # Test empty participant list
        session = ConversationSession(  # noqa: F841
            session_id="test",
            participants=[],
            session_type="user_to_mc",
            created_at=datetime.utcnow(),
            last_activity=datetime.utcnow(),
        )
    except ValueError as e:
        print(f"✅ Empty participants validation: {e}")

    try:
        # Test invalid session type
        session = ConversationSession(  # noqa: F841
            session_id="test",
            participants=[ConversationParticipant("user", "user")],
            session_type="invalid_type",
            created_at=datetime.utcnow(),
            last_activity=datetime.utcnow(),
        )
    except ValueError as e:
        print(f"✅ Invalid session_type validation: {e}")

    try:
        # Test participant type mismatch
        session = ConversationSession(  # noqa: F841
            session_id="test",
            participants=[ConversationParticipant("user", "user")],
            session_type="mc_to_agent",
            created_at=datetime.utcnow(),
            last_activity=datetime.utcnow(),
        )
    except ValueError as e:
        print(f"✅ Participant type mismatch validation: {e}")


def seed_optimize_batch_operations():  # type: ignore[no-untyped-def]
    """Optimize batch operations"""
    # Batch create participants
    participants = []
    for i in range(1000):
        participant = ConversationParticipant(
            participant_id=f"participant_{i}", participant_type="agent", participant_role="test_role"
        )
        participants.append(participant)

    # Batch create sessions
    sessions = []
    for i in range(100):
        session = ConversationSession(
            session_id=f"session_{i}",
            participants=participants[i : i + 2],
            session_type="agent_to_agent",
            created_at=datetime.utcnow(),
            last_activity=datetime.utcnow(),
        )
        sessions.append(session)

    print(f"Created {len(participants)} participants and {len(sessions)} sessions")


def seed_optimize_memory_usage():  # type: ignore[no-untyped-def]
    """Optimize memory usage"""
    import gc
    import sys

    # Create many objects
    objects = []
    for i in range(10000):
        participant = ConversationParticipant(
            participant_id=f"participant_{i}", participant_type="agent", participant_role="test_role"
        )
        objects.append(participant)

    print(f"Memory usage before cleanup: {sys.getsizeof(objects)} bytes")

    # Clean up objects
    objects.clear()
    gc.collect()

    print(f"Memory usage after cleanup: {sys.getsizeof(objects)} bytes")


def seed_migrate_models_to_new_version(old_data: dict[str, Any]) -> dict[str, Any]:
    """Migrate model data to new version"""
    # Check version
    version = old_data.get("version", "1.0")

    if version == "1.0":
        # Upgrade from 1.0 to 1.1
        if "participants" in old_data:
            for participant in old_data["participants"]:
                # Add new required fields
                if "metadata" not in participant:
                    participant["metadata"] = {}

        old_data["version"] = "1.1"

    return old_data


def seed_convert_data_formats():  # type: ignore[no-untyped-def]
    """Convert data formats"""
    # Convert from old format to new format
    old_participant = {"id": "participant_001", "type": "agent", "role": "data_analyst"}

    # Convert to new format
    new_participant = ConversationParticipant(
        participant_id=old_participant["id"],
        participant_type=old_participant["type"],
        participant_role=old_participant["role"],
        metadata={},
    )

    print(f"Converted participant: {new_participant}")


# -- fixtures: the seed's two documented sessions -------------------------------------------------
def _sessions() -> list[ConversationSession]:
    user_mc_session = ConversationSession(
        session_id="session_001",
        participants=[
            ConversationParticipant("user_123", "user"),
            ConversationParticipant("mc_001", "master_controller"),
        ],
        session_type="user_to_mc",
        created_at=datetime.utcnow(),
        last_activity=datetime.utcnow(),
        metadata={"project": "data_analysis", "priority": "high"},
    )
    mc_agent_session = ConversationSession(
        session_id="session_002",
        participants=[
            ConversationParticipant("mc_001", "master_controller"),
            ConversationParticipant("agent_001", "agent", "data_analyst"),
        ],
        session_type="mc_to_agent",
        created_at=datetime.utcnow(),
        last_activity=datetime.utcnow(),
        metadata={"task_type": "data_analysis", "deadline": "2024-01-01"},
    )
    return [user_mc_session, mc_agent_session]


# -- Model Validation ---------------------------------------------------------------------------
def test_model_validation(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """The seed's health check fails on its own example (a user_to_agent session with no user);
    convoledger's ``validate_models_health`` builds the session its rules ask for and passes."""
    assert seed_validate_models_health() is False
    out = capsys.readouterr().out
    assert out.startswith("✅ ConversationParticipant validation passed\n❌ Model validation failed: ")
    assert "user_to_agent session requires user and agent participants" in out
    with caplog.at_level(logging.INFO, logger="convoledger.models"):
        assert validate_models_health() is True
    assert [r.getMessage() for r in caplog.records] == [
        "✅ ConversationParticipant validation passed",
        "✅ ConversationSession validation passed",
        "✅ AgentCommunicationMessage validation passed",
    ]


# -- Data Consistency Check ---------------------------------------------------------------------
def test_data_consistency_check(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    for session in _sessions():
        assert seed_check_data_consistency(session) is True
        assert capsys.readouterr().out == "✅ Data consistency check passed\n"
        assert check_data_consistency(session) is True
    # an id containing "_to_" fools the seed's substring check; the structured key does not
    plan = ConversationSession(
        "plan_to_do",
        [ConversationParticipant("u", "user"), ConversationParticipant("mc", "master_controller")],
        "user_to_mc",
    )
    assert seed_check_data_consistency(plan) is False
    assert capsys.readouterr().out == "❌ Session type validation failed\n"
    assert check_data_consistency(plan) is True
    # a session changed after construction so that it breaks its type's rule
    broken = _sessions()[0]
    broken.session_type = "mc_to_agent"
    with caplog.at_level(logging.ERROR, logger="convoledger.models"):
        assert check_data_consistency(broken) is False
    assert "mc_to_agent session requires master_controller and agent participants" in caplog.text


# -- Troubleshooting ----------------------------------------------------------------------------
def test_diagnose_participant_validation_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Each error is a ``ValueError`` whose text holds the seed's message (pydantic's
    ``ValidationError`` wraps it: "1 validation error for ConversationParticipant / Value error,
    <the seed's message>")."""
    seed_diagnose_participant_validation_error()
    out = capsys.readouterr().out
    blocks = out.split("✅ ")[1:]
    assert [block.split(":")[0] for block in blocks] == [
        "Empty participant_id validation",
        "Invalid participant_type validation",
        "Agent without role validation",
    ]
    assert "participant_id cannot be empty" in blocks[0]
    assert "participant_type must be one of" in blocks[1]
    assert "participant_role is required for agent participants" in blocks[2]


def test_diagnose_session_validation_error(capsys: pytest.CaptureFixture[str]) -> None:
    seed_diagnose_session_validation_error()
    out = capsys.readouterr().out
    assert "✅ Empty participants validation:" in out and "participants list cannot be empty" in out
    assert "✅ Invalid session_type validation:" in out and "session_type must be one of" in out
    assert "✅ Participant type mismatch validation:" in out
    assert "mc_to_agent session requires master_controller and agent participants" in out


# -- Performance Optimization -------------------------------------------------------------------
def test_batch_and_memory_examples(capsys: pytest.CaptureFixture[str]) -> None:
    seed_optimize_batch_operations()
    assert capsys.readouterr().out == "Created 1000 participants and 100 sessions\n"
    seed_optimize_memory_usage()
    before, after = capsys.readouterr().out.splitlines()
    assert (
        before.startswith("Memory usage before cleanup: ") and after == "Memory usage after cleanup: 56 bytes"
    )


def test_dataclass_pattern_asdict() -> None:
    """ "Dataclass Pattern": compatible with ``asdict()`` and ``from_dict()``."""
    user_mc, mc_agent = _sessions()
    d = asdict(mc_agent)
    assert d["participants"][1] == {
        "participant_id": "agent_001",
        "participant_type": "agent",
        "participant_role": "data_analyst",
        "metadata": {},
    }
    assert d["session_type"] == "mc_to_agent" and d["metadata"] == {
        "task_type": "data_analysis",
        "deadline": "2024-01-01",
    }
    assert ConversationSession.from_dict(mc_agent.to_dict()) == mc_agent
    assert ConversationParticipant(**asdict(user_mc.participants[0])) == user_mc.participants[0]


# -- Data Migration -----------------------------------------------------------------------------
def test_model_version_upgrade() -> None:
    old_data = {
        "version": "1.0",
        "session_id": "session_001",
        "participants": [
            {"participant_id": "user_123", "participant_type": "user"},
            {"participant_id": "mc_001", "participant_type": "master_controller", "metadata": {"v": 1}},
        ],
        "session_type": "user_to_mc",
    }
    seed_result = seed_migrate_models_to_new_version(copy.deepcopy(old_data))
    ours = migrate_models_to_new_version(old_data)
    assert ours == {**seed_result, "schema_version": "1.1"}
    assert ours["version"] == "1.1" and ours["participants"][0]["metadata"] == {}
    assert "metadata" not in old_data["participants"][0] and old_data["version"] == "1.0"  # not in place
    assert migrate_models_to_new_version({"participants": []})["version"] == "1.1"  # no version = 1.0
    session = ConversationSession.from_dict(
        {**ours, "created_at": "2024-01-01T00:00:00", "last_activity": "2024-01-01T00:00:00"}
    )
    assert session.generate_session_key() == "session_001"
    with pytest.raises(ValueError, match="unsupported schema_version '2.0'"):
        migrate_models_to_new_version({"version": "2.0"})


def test_data_format_conversion(capsys: pytest.CaptureFixture[str]) -> None:
    seed_convert_data_formats()
    assert capsys.readouterr().out == (
        "Converted participant: ConversationParticipant(participant_id='participant_001', "
        "participant_type='agent', participant_role='data_analyst', metadata={})\n"
    )
    converted = ConversationParticipant.from_dict(
        {"id": "participant_001", "type": "agent", "role": "data_analyst"}
    )
    assert converted == ConversationParticipant("participant_001", "agent", "data_analyst", {})


# -- Monitoring and Logging ---------------------------------------------------------------------
def test_model_usage_monitoring() -> None:
    monitor = ConversationModelsMonitor()
    assert monitor.creation_metrics == {"participants": 0, "sessions": 0, "messages": 0}
    assert monitor.get_performance_report() == {}
    for seconds in (0.002, 0.004, 0.003):
        monitor.record_participant_creation(seconds)
    monitor.record_session_creation(0.01)
    assert monitor.creation_metrics == {"participants": 3, "sessions": 1, "messages": 0}
    assert list(monitor.performance_metrics["participant_creation_time"]) == [0.002, 0.004, 0.003]
    report = monitor.get_performance_report()
    assert set(report) == {"participant_creation_time", "session_creation_time"}
    assert report["participant_creation_time"] == {
        "count": 3,
        "avg_time": pytest.approx(0.003),
        "min_time": 0.002,
        "max_time": 0.004,
    }
    with pytest.raises(ValueError, match="creation_time"):
        monitor.record_message_creation(-1.0)


def test_monitor_keeps_bounded_samples_but_exact_totals() -> None:
    monitor = ConversationModelsMonitor(max_samples=2)
    for seconds in (0.5, 0.1, 0.2, 0.3):
        monitor.record_message_creation(seconds)
    assert list(monitor.performance_metrics["message_creation_time"]) == [0.2, 0.3]
    assert monitor.get_performance_report()["message_creation_time"] == {
        "count": 4,
        "avg_time": pytest.approx(0.275),
        "min_time": 0.1,
        "max_time": 0.5,
    }


def test_logging(caplog: pytest.LogCaptureFixture) -> None:
    logger = ConversationModelsLogger()
    user_mc, mc_agent = _sessions()
    message = AgentCommunicationMessage(
        "msg-1", "session_002_mc_to_data_analyst", "mc_001", "master_controller", None, "agent_001", "agent",
        "data_analyst", "Please analyze the sales data and generate a report", "task_assignment",
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="convoledger.models"):
        logger.log_participant_creation(user_mc.participants[0])
        logger.log_session_creation(mc_agent)
        logger.log_message_creation(message)
        logger.log_validation_error(ValueError("content cannot be empty"), "AgentCommunicationMessage")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "Participant created: user_123 - user"),
        ("INFO", "Session created: session_002 - mc_to_agent"),
        ("INFO", "Message created: msg-1 - task_assignment"),
        ("ERROR", "Validation error in AgentCommunicationMessage: content cannot be empty"),
    ]
