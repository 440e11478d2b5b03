"""Seed 000's models stored and read back ("Conversation Data Persistence", "Storage Systems (via
serialization interface)", "API Layer (via data conversion)"): the seed's documented sessions and
messages through the ``Ledger`` on every backend, and through ``/api/sessions`` of a real
``convoledger serve`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from convoledger import AgentCommunicationMessage, ConversationParticipant, ConversationSession, Ledger
from serve_process import ServeProcess


def _mc_agent_session(role: str = "data_analyst") -> ConversationSession:
    return ConversationSession(
        session_id="session_002",
        participants=[
            ConversationParticipant("mc_001", "master_controller"),
            ConversationParticipant("agent_001", "agent", role),
        ],
        session_type="mc_to_agent",
        created_at=datetime.utcnow(),
        last_activity=datetime.utcnow(),
        metadata={"task_type": "data_analysis", "deadline": "2024-01-01"},
    )


def _messages() -> list[AgentCommunicationMessage]:
    task_message = AgentCommunicationMessage(
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
        timestamp=datetime.utcnow(),
        metadata={"task_id": "task_001", "priority": "high", "deadline": "2024-01-01"},
    )
    result_message = AgentCommunicationMessage(
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
        timestamp=datetime.utcnow(),
        metadata={"analysis_id": "analysis_001", "confidence": 0.95, "data_points": 1000},
    )
    return [task_message, result_message]


async def test_sessions_and_messages_through_the_ledger(ledger: Ledger) -> None:
    session = _mc_agent_session()
    stored = await ledger.create_conversation(session)
    assert stored.session_key == "session_002_mc_to_data_analyst"
    # one base session_id, several isolated channels (the seed's session keys)
    writer = await ledger.create_conversation(_mc_agent_session("writer"))
    assert writer.session_key == "session_002_mc_to_writer" and writer.id != stored.id

    task_message, result_message = _messages()
    for message in (task_message, result_message):
        await ledger.append(message.session_key, message)
    back = await ledger.messages("session_002_mc_to_data_analyst", as_=AgentCommunicationMessage)
    assert back == [task_message, result_message]
    assert back[1].to_conversation_message_dict()["role"] == "agent_data_analyst"
    assert await ledger.messages("session_002_mc_to_writer") == []

    again = await ledger.get_conversation("session_002_mc_to_data_analyst", as_=ConversationSession)
    assert again.session_id == "session_002" and again.participants == session.participants
    assert again.metadata == session.metadata and again.generate_session_key() == stored.session_key


def test_the_seed_session_over_http(serve: ServeProcess) -> None:
    """The seed's ``session_002`` example and its task/result messages, posted as JSON."""
    with serve.client("a") as a, serve.client("b") as b:
        session = _mc_agent_session()
        body = {
            "session_id": session.session_id,
            "participants": [p.as_seed_dict() for p in session.participants],
            "session_type": session.session_type,
            "metadata": session.metadata,
        }
        r = a.post("/api/sessions", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert (created["session_id"], created["session_key"]) == (
            "session_002",
            "session_002_mc_to_data_analyst",
        )
        assert created["participants"] == body["participants"]
        key = created["session_key"]

        for message in _messages():
            seed = message.to_dict()
            r = a.post(
                f"/api/sessions/{key}/messages",
                json={
                    k: seed[k]
                    for k in (
                        "message_id",
                        "sender_id",
                        "recipient_id",
                        "content",
                        "message_type",
                        "metadata",
                    )
                },
            )
            assert r.status_code == 201, r.text
            assert r.json()["role"] == message.sender_type and r.json()["id"] == message.message_id
        listed = a.get(f"/api/sessions/{key}/messages").json()["items"]
        assert [(m["sender"], m["recipient"], m["message_type"]) for m in listed] == [
            ("mc_001", "agent_001", "task_assignment"),
            ("agent_001", "mc_001", "result_report"),
        ]

        # the seed's validation rules answer 422 problem+json
        wrong = {**body, "session_id": "session_003", "participants": [body["participants"][0]]}
        r = a.post("/api/sessions", json=wrong)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert "mc_to_agent session requires master_controller and agent participants" in r.json()["detail"]
        no_role = {
            **body,
            "session_id": "session_004",
            "participants": [
                body["participants"][0],
                {"participant_id": "agent_9", "participant_type": "agent"},
            ],
        }
        r = a.post("/api/sessions", json=no_role)
        assert r.status_code == 422 and "participant_role is required for agent participants" in r.text
        # another account does not see it
        assert b.get(f"/api/sessions/{key}").status_code == 404
