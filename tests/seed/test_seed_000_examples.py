"""The conversation-models seed's documented examples, run as written (aiecs conversation_models
technical documentation), with the documented results.

``datetime.utcnow()`` of the seed is replaced by a fixed *naive* datetime: it is what utcnow()
returns (naive UTC), and a fixed value lets the tests assert the exact conversion to aware UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from convoledger import (
    AgentCommunicationMessage,
    ConversationParticipant,
    ConversationSession,
    create_session_key,
    validate_conversation_isolation_pattern,
)

NOW = datetime(2024, 1, 1, 12, 30, 15, 123456)  # what datetime.utcnow() gives: naive, UTC
NOW_UTC = NOW.replace(tzinfo=UTC)


@pytest.fixture
def user_mc_session() -> ConversationSession:
    return ConversationSession(
        session_id="session_001",
        participants=[
            ConversationParticipant("user_123", "user"),
            ConversationParticipant("mc_001", "master_controller"),
        ],
        session_type="user_to_mc",
        created_at=NOW,
        last_activity=NOW,
        metadata={"project": "data_analysis", "priority": "high"},
    )


@pytest.fixture
def mc_agent_session() -> ConversationSession:
    return ConversationSession(
        session_id="session_002",
        participants=[
            ConversationParticipant("mc_001", "master_controller"),
            ConversationParticipant("agent_001", "agent", "data_analyst"),
        ],
        session_type="mc_to_agent",
        created_at=NOW,
        last_activity=NOW,
        metadata={"task_type": "data_analysis", "deadline": "2024-01-01"},
    )


@pytest.fixture
def task_message() -> AgentCommunicationMessage:
    return AgentCommunicationMessage(
        message_id=str(uuid.uuid4()),
        session_key="session_002_mc_to_data_analyst",
        sender_id="mc_001",
        sender_type="master_controller",
        sender_role=None,
        recipient_id="agent_001",
        recipient_type="agent",
        recipient_role="data_analyst",
        content="Please analyze the sales data and generate a report",
        message_type="task_assignment",
        timestamp=NOW,
        metadata={"task_id": "task_001", "priority": "high", "deadline": "2024-01-01"},
    )


@pytest.fixture
def result_message() -> AgentCommunicationMessage:
    return AgentCommunicationMessage(
        message_id=str(uuid.uuid4()),
        session_key="session_002_mc_to_data_analyst",
        sender_id="agent_001",
        sender_type="agent",
        sender_role="data_analyst",
        recipient_id="mc_001",
        recipient_type="master_controller",
        recipient_role=None,
        content="Analysis completed. Found 15% increase in sales compared to last quarter.",
        message_type="result_report",
        timestamp=NOW,
        metadata={"analysis_id": "analysis_001", "confidence": 0.95, "data_points": 1000},
    )


def test_participant_usage_examples() -> None:
    user = ConversationParticipant(
        participant_id="user_123",
        participant_type="user",
        metadata={"name": "John Doe", "email": "john@example.com"},
    )
    agent = ConversationParticipant(
        participant_id="agent_001",
        participant_type="agent",
        participant_role="data_analyst",
        metadata={"capabilities": ["data_analysis", "visualization"]},
    )
    controller = ConversationParticipant(
        participant_id="mc_001",
        participant_type="master_controller",
        metadata={"version": "1.0", "max_agents": 10},
    )
    assert (user.participant_id, user.participant_type, user.participant_role) == ("user_123", "user", None)
    assert f"Agent: {agent.participant_id} - {agent.participant_type} - {agent.participant_role}" == (
        "Agent: agent_001 - agent - data_analyst"
    )
    assert controller.metadata == {"version": "1.0", "max_agents": 10}
    # positional construction, as in the seed's session examples
    positional = ConversationParticipant("agent_001", "agent", "data_analyst")
    assert positional == ConversationParticipant(
        participant_id="agent_001", participant_type="agent", participant_role="data_analyst"
    )
    assert positional.metadata == {}


def test_session_keys_documented(
    user_mc_session: ConversationSession, mc_agent_session: ConversationSession
) -> None:
    assert user_mc_session.generate_session_key() == "session_001"
    assert mc_agent_session.generate_session_key() == "session_002_mc_to_data_analyst"
    assert user_mc_session.created_at == NOW_UTC  # naive input is UTC, kept aware


def test_participant_lookup_documented(
    user_mc_session: ConversationSession, mc_agent_session: ConversationSession
) -> None:
    user_participant = user_mc_session.get_participant_by_type_and_role("user")
    agent_participant = mc_agent_session.get_participant_by_type_and_role("agent", "data_analyst")
    assert user_participant is not None and user_participant.participant_id == "user_123"
    assert agent_participant is not None
    assert (agent_participant.participant_id, agent_participant.participant_role) == (
        "agent_001",
        "data_analyst",
    )
    assert mc_agent_session.get_participant_by_type_and_role("agent", "writer") is None
    assert user_mc_session.get_participant_by_type_and_role("agent") is None


def test_to_conversation_message_dict_documented(task_message: AgentCommunicationMessage) -> None:
    d = task_message.to_conversation_message_dict()
    assert d == {
        "role": "master_controller",
        "content": "Please analyze the sales data and generate a report",
        "timestamp": "2024-01-01T12:30:15.123456+00:00",
        "metadata": {
            "task_id": "task_001",
            "priority": "high",
            "deadline": "2024-01-01",
            "message_id": task_message.message_id,
            "sender_id": "mc_001",
            "sender_type": "master_controller",
            "sender_role": None,
            "recipient_id": "agent_001",
            "recipient_type": "agent",
            "recipient_role": "data_analyst",
            "message_type": "task_assignment",
        },
    }


def test_to_conversation_message_dict_role_with_sender_role(
    result_message: AgentCommunicationMessage,
) -> None:
    d = result_message.to_conversation_message_dict()
    assert d["role"] == "agent_data_analyst"
    assert d["metadata"]["confidence"] == 0.95
    assert d["metadata"]["recipient_role"] is None


def test_message_own_keys_win_over_caller_metadata(task_message: AgentCommunicationMessage) -> None:
    task_message.metadata = {"sender_id": "spoofed", "extra": 1}
    meta = task_message.to_conversation_message_dict()["metadata"]
    assert meta["sender_id"] == "mc_001" and meta["extra"] == 1


def test_message_to_dict_documented_shape(result_message: AgentCommunicationMessage) -> None:
    d = result_message.to_dict()
    seed_keys = {
        "message_id", "session_key", "sender_id", "sender_type", "sender_role", "recipient_id",
        "recipient_type", "recipient_role", "content", "message_type", "timestamp", "metadata",
    }  # fmt: skip
    assert set(d) == seed_keys | {"schema_version"}
    assert d["schema_version"] == "1.1"
    assert d["timestamp"] == "2024-01-01T12:30:15.123456+00:00"


def test_utility_functions_documented() -> None:
    participants = [
        ConversationParticipant("user_123", "user"),
        ConversationParticipant("agent_001", "agent", "data_analyst"),
    ]
    session_key = create_session_key("session_001", "user_to_agent", participants)
    assert session_key == "session_001_user_to_data_analyst"
    assert validate_conversation_isolation_pattern(session_key, "user_to_agent") is True
    assert validate_conversation_isolation_pattern(session_key, "mc_to_agent") is False
    assert validate_conversation_isolation_pattern("session_002_mc_to_writer", "mc_to_agent") is True


def test_serialization_examples_documented(
    user_mc_session: ConversationSession, task_message: AgentCommunicationMessage
) -> None:
    session_dict = user_mc_session.to_dict()
    restored_session = ConversationSession.from_dict(session_dict)
    assert restored_session.session_id == "session_001"
    assert restored_session == user_mc_session
    message_dict = task_message.to_dict()
    restored_message = AgentCommunicationMessage.from_dict(message_dict)
    assert restored_message.message_id == task_message.message_id
    assert restored_message == task_message


def test_session_to_dict_documented_shape(user_mc_session: ConversationSession) -> None:
    assert user_mc_session.to_dict() == {
        "session_id": "session_001",
        "participants": [
            {
                "participant_id": "user_123",
                "participant_type": "user",
                "participant_role": None,
                "metadata": {},
            },
            {
                "participant_id": "mc_001",
                "participant_type": "master_controller",
                "participant_role": None,
                "metadata": {},
            },
        ],
        "session_type": "user_to_mc",
        "created_at": "2024-01-01T12:30:15.123456+00:00",
        "last_activity": "2024-01-01T12:30:15.123456+00:00",
        "metadata": {"project": "data_analysis", "priority": "high"},
        "schema_version": "1.1",
    }


def test_seed_written_dict_loads() -> None:
    """A dict written by the seed itself: naive ISO times, no schema_version."""
    seed_dict = {
        "session_id": "session_002",
        "participants": [
            {"participant_id": "mc_001", "participant_type": "master_controller", "participant_role": None,
             "metadata": {}},
            {"participant_id": "agent_001", "participant_type": "agent", "participant_role": "data_analyst",
             "metadata": {}},
        ],
        "session_type": "mc_to_agent",
        "created_at": NOW.isoformat(),
        "last_activity": NOW.isoformat(),
        "metadata": {},
    }  # fmt: skip
    s = ConversationSession.from_dict(seed_dict)
    assert s.created_at == NOW_UTC and s.created_at.tzinfo is UTC
    assert s.generate_session_key() == "session_002_mc_to_data_analyst"


def test_validate_models_health_example() -> None:
    """The seed's health check builds a user_to_agent session with only an agent: it fails
    ("❌ Model validation failed"), and so it does here, with the seed's message."""
    participant = ConversationParticipant(
        participant_id="test_001", participant_type="agent", participant_role="test_role"
    )
    with pytest.raises(ValueError, match="user_to_agent session requires user and agent participants"):
        ConversationSession(
            session_id="test_session",
            participants=[participant],
            session_type="user_to_agent",
            created_at=NOW,
            last_activity=NOW,
        )
    message = AgentCommunicationMessage(
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
        timestamp=NOW,
    )
    assert message.metadata == {}


def test_check_data_consistency_example(
    user_mc_session: ConversationSession, mc_agent_session: ConversationSession
) -> None:
    for session in (user_mc_session, mc_agent_session):
        generated = session.generate_session_key()
        assert generated == create_session_key(session.session_id, session.session_type, session.participants)
        assert validate_conversation_isolation_pattern(generated, session.session_type)


def test_diagnose_participant_validation_errors() -> None:
    with pytest.raises(ValueError, match="participant_id cannot be empty"):
        ConversationParticipant("", "user")
    with pytest.raises(ValueError, match="participant_type must be one of"):
        ConversationParticipant("test", "invalid_type")
    with pytest.raises(ValueError, match="participant_role is required for agent participants"):
        ConversationParticipant("test", "agent")


def test_diagnose_session_validation_errors() -> None:
    with pytest.raises(ValueError, match="participants list cannot be empty"):
        ConversationSession(
            session_id="test", participants=[], session_type="user_to_mc", created_at=NOW, last_activity=NOW
        )
    with pytest.raises(ValueError, match="session_type must be one of"):
        ConversationSession(
            session_id="test",
            participants=[ConversationParticipant("user", "user")],
            session_type="invalid_type",
            created_at=NOW,
            last_activity=NOW,
        )
    with pytest.raises(
        ValueError, match="mc_to_agent session requires master_controller and agent participants"
    ):
        ConversationSession(
            session_id="test",
            participants=[ConversationParticipant("user", "user")],
            session_type="mc_to_agent",
            created_at=NOW,
            last_activity=NOW,
        )


def test_batch_operations_example() -> None:
    participants = [
        ConversationParticipant(
            participant_id=f"participant_{i}", participant_type="agent", participant_role="test_role"
        )
        for i in range(1000)
    ]
    sessions = [
        ConversationSession(
            session_id=f"session_{i}",
            participants=participants[i : i + 2],
            session_type="agent_to_agent",
            created_at=NOW,
            last_activity=NOW,
        )
        for i in range(100)
    ]
    assert len(participants) == 1000 and len(sessions) == 100
    assert sessions[7].generate_session_key() == "session_7_test_role_to_test_role"


def test_model_version_upgrade_example() -> None:
    """The seed's "Model Version Upgrade": version 1.0 participants without metadata."""
    old_data: dict[str, Any] = {
        "version": "1.0",
        "session_id": "session_001",
        "participants": [
            {"participant_id": "user_123", "participant_type": "user"},
            {"participant_id": "mc_001", "participant_type": "master_controller", "participant_role": None},
        ],
        "session_type": "user_to_mc",
        "created_at": NOW.isoformat(),
        "last_activity": NOW.isoformat(),
    }
    session = ConversationSession.from_dict(old_data)
    assert [p.metadata for p in session.participants] == [{}, {}]
    assert session.metadata == {}
    assert "metadata" not in old_data["participants"][0]  # the input is not modified
    assert session.to_dict()["schema_version"] == "1.1"


def test_data_format_conversion_example() -> None:
    """The seed's "Data Format Conversion": an old {"id", "type", "role"} participant."""
    old_participant = {"id": "participant_001", "type": "agent", "role": "data_analyst"}
    new_participant = ConversationParticipant.from_dict(old_participant)
    assert new_participant == ConversationParticipant("participant_001", "agent", "data_analyst", {})
