"""ConversationParticipant / ConversationSession rules, the seed's keys (quirks included), the
collision-free SessionKey, and the session ↔ record conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from convoledger import (
    ConversationKind,
    ConversationParticipant,
    ConversationRecord,
    ConversationSession,
    ParticipantRecord,
    ParticipantType,
    SessionKey,
    SessionType,
    create_session_key,
    resolve_session_key,
    validate_conversation_isolation_pattern,
    validate_session_key,
)
from convoledger.models.serialization import split_face_metadata

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
MC = ConversationParticipant("mc_001", "master_controller")
USER = ConversationParticipant("user_123", "user")


def agent(pid: str, role: str) -> ConversationParticipant:
    return ConversationParticipant(pid, "agent", role)


def session(sid: str, stype: str, *participants: ConversationParticipant) -> ConversationSession:
    return ConversationSession(sid, list(participants), stype, T0, T0)


# -- participant rules ------------------------------------------------------------------------
def test_participant_rules() -> None:
    with pytest.raises(ValueError, match="participant_type cannot be empty"):
        ConversationParticipant("x", "")
    with pytest.raises(ValueError, match="participant_role is required for agent participants"):
        ConversationParticipant("x", "agent", "")
    with pytest.raises(ValueError):
        ConversationParticipant("x", "user", metadata={"when": datetime(2024, 1, 1)})  # not JSON
    with pytest.raises(ValueError):
        ConversationParticipant(None, "user")  # type: ignore[arg-type]
    assert ConversationParticipant("x", "user", "observer").participant_role == "observer"


def test_participant_type_enum_is_stored_as_plain_text() -> None:
    p = ConversationParticipant("a1", ParticipantType.AGENT, "writer")
    assert type(p.participant_type) is str and p.participant_type == "agent"
    assert p.to_dict()["participant_type"] == "agent"


def test_participant_assignment_is_validated() -> None:
    p = ConversationParticipant("a1", "agent", "writer")
    with pytest.raises(ValueError):
        p.metadata = {1: "x"}  # type: ignore[dict-item]


def test_participant_record_round_trip() -> None:
    p = ConversationParticipant("agent_001", "agent", "data_analyst", {"v": [1, 2]})
    rec = p.to_record()
    assert rec == ParticipantRecord(
        participant_id="agent_001",
        participant_type="agent",
        participant_role="data_analyst",
        metadata={"v": [1, 2]},
    )
    assert ConversationParticipant.from_record(rec) == p
    assert ConversationParticipant.from_dict(p.to_dict()) == p


# -- session rules ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stype", "participants", "message"),
    [
        ("user_to_mc", [USER], "user_to_mc session requires user and master_controller participants"),
        ("user_to_mc", [MC], "user_to_mc session requires user and master_controller participants"),
        ("mc_to_agent", [agent("a", "w")], "mc_to_agent session requires master_controller and agent"),
        ("agent_to_agent", [agent("a", "w"), MC], "agent_to_agent session requires at least 2 agent"),
        ("user_to_agent", [USER, MC], "user_to_agent session requires user and agent participants"),
    ],
)
def test_session_type_requirements(
    stype: str, participants: list[ConversationParticipant], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ConversationSession("s", participants, stype, T0, T0)


def test_session_rules_order_and_empty_id() -> None:
    with pytest.raises(ValueError, match="session_id cannot be empty"):
        ConversationSession("", [], "bogus", T0, T0)  # the first rule wins, as in the seed
    with pytest.raises(ValueError, match="duplicate participant_id 'mc_001'"):
        session("s", "mc_to_agent", MC, agent("a", "w"), MC)


def test_session_accepts_participant_dicts_and_enum_type() -> None:
    s = ConversationSession(
        "s",
        [
            {"participant_id": "u", "participant_type": "user"},
            {"participant_id": "m", "participant_type": "master_controller"},
        ],  # type: ignore[list-item]
        SessionType.USER_TO_MC,
        T0,
        T0,
    )
    assert isinstance(s.participants[0], ConversationParticipant)
    assert type(s.session_type) is str and s.session_type == "user_to_mc"


def test_times_are_aware_utc() -> None:
    naive = datetime(2024, 1, 1, 10, 0)
    plus2 = datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    s = ConversationSession("s", [USER, MC], "user_to_mc", naive, plus2)
    assert s.created_at == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert s.last_activity == datetime(
        2024, 1, 1, 10, 0, tzinfo=UTC
    ) and s.last_activity.utcoffset() == timedelta(0)
    epoch = ConversationSession("s", [USER, MC], "user_to_mc", 0, "1970-01-01T00:00:01Z")
    assert epoch.created_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert epoch.last_activity == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        ConversationSession("s", [USER, MC], "user_to_mc", "yesterday", T0)


def test_update_activity_uses_aware_utc_now() -> None:
    s = session("s", "user_to_mc", USER, MC)
    before = datetime.now(UTC)
    s.update_activity()
    assert s.last_activity.tzinfo is not None and s.last_activity.utcoffset() == timedelta(0)
    assert before <= s.last_activity <= datetime.now(UTC)
    s.update_activity(datetime(2030, 1, 1))
    assert s.last_activity == datetime(2030, 1, 1, tzinfo=UTC)


# -- the seed's keys, quirks included -----------------------------------------------------------
def test_seed_keys_every_type() -> None:
    assert session("s1", "user_to_mc", USER, MC).generate_session_key() == "s1"
    assert session("s1", "mc_to_agent", MC, agent("a1", "writer")).generate_session_key() == "s1_mc_to_writer"
    a2a = session("s1", "agent_to_agent", agent("a1", "writer"), agent("a2", "researcher"), agent("a3", "x"))
    assert a2a.generate_session_key() == "s1_writer_to_researcher"
    assert (
        session("s1", "user_to_agent", USER, agent("a1", "coder")).generate_session_key()
        == "s1_user_to_coder"
    )


def test_create_session_key_fallbacks() -> None:
    assert create_session_key("s", "mc_to_agent", [MC]) == "s_mc_to_unknown"
    assert create_session_key("s", "user_to_agent", []) == "s_user_to_unknown"
    assert create_session_key("s", "agent_to_agent", [agent("a", "w")]) == "s_agent_to_agent"
    assert create_session_key("s", "no_such_type", [USER]) == "s"
    # works on stored participant records too
    recs = [MC.to_record(), agent("a1", "writer").to_record()]
    assert create_session_key("s", "mc_to_agent", recs) == "s_mc_to_writer"


def test_validate_pattern_each_type_and_unknown() -> None:
    assert validate_conversation_isolation_pattern("session_001", "user_to_mc")
    assert validate_conversation_isolation_pattern("plain", "user_to_mc")
    assert validate_conversation_isolation_pattern("s_writer_to_researcher", "agent_to_agent")
    assert not validate_conversation_isolation_pattern("s_mc_to_writer", "agent_to_agent")
    assert not validate_conversation_isolation_pattern("s_user_to_writer", "agent_to_agent")
    assert not validate_conversation_isolation_pattern("s_mc_to_writer", "user_to_mc")
    assert not validate_conversation_isolation_pattern("s", "bogus")


def test_seed_key_flaws_are_kept_for_compatibility() -> None:
    """The documented flaws of the string format (module docstring), reproduced on purpose."""
    # 1. two different agents with the same role share a key
    one = session("s1", "mc_to_agent", MC, agent("agent_001", "writer"))
    two = session("s1", "mc_to_agent", MC, agent("agent_002", "writer"))
    assert one.generate_session_key() == two.generate_session_key() == "s1_mc_to_writer"
    # 2. a session id containing _mc_to_ collides with another session type
    user_mc = session("a_mc_to_b", "user_to_mc", USER, MC)
    mc_agent = session("a", "mc_to_agent", MC, agent("x", "b"))
    assert user_mc.generate_session_key() == mc_agent.generate_session_key()
    # 3. the validator is fooled by _to_ inside a session id
    key = session("plan_to_do", "user_to_mc", USER, MC).generate_session_key()
    assert not validate_conversation_isolation_pattern(key, "user_to_mc")
    assert validate_conversation_isolation_pattern(key, "agent_to_agent")


# -- the collision-free alternative -------------------------------------------------------------
def test_resolved_keys_differ_where_seed_keys_collide() -> None:
    one = session("s1", "mc_to_agent", MC, agent("agent_001", "writer"))
    two = session("s1", "mc_to_agent", MC, agent("agent_002", "writer"))
    assert one.resolve_key() != two.resolve_key()
    assert str(one.resolve_key()) != str(two.resolve_key())
    user_mc = session("a_mc_to_b", "user_to_mc", USER, MC)
    mc_agent = session("a", "mc_to_agent", MC, agent("x", "b"))
    assert str(user_mc.resolve_key()) != str(mc_agent.resolve_key())


def test_resolved_key_validates_exactly() -> None:
    key = session("plan_to_do", "user_to_mc", USER, MC).resolve_key()
    assert validate_session_key(key, "user_to_mc")
    assert validate_session_key(str(key), "user_to_mc")
    assert not validate_session_key(str(key), "agent_to_agent")
    assert not validate_session_key("plan_to_do", "user_to_mc")  # a seed key is not a structured key
    assert not validate_session_key("sk1:%zz:user_to_mc:", "user_to_mc")  # malformed escape


def test_resolved_key_text_and_parse() -> None:
    s = session("s:1,x=y_to_z", "agent_to_agent", agent("b/2", "w"), agent("a 1", "w"), MC)
    key = s.resolve_key()
    assert key.participants == (("agent", "a 1"), ("agent", "b/2"))  # sorted, the MC is not in the channel
    text = str(key)
    assert text == "sk1:s%3A1%2Cx%3Dy_to_z:agent_to_agent:agent=a%201,agent=b%2F2"
    assert SessionKey.parse(text) == key
    # order of the participant list does not matter; observers do not change the key
    same = session("s:1,x=y_to_z", "agent_to_agent", agent("a 1", "w"), agent("b/2", "w"))
    assert same.resolve_key() == key


@pytest.mark.parametrize(
    "text",
    [
        "session_001",
        "sk1:s:bogus_type:",
        "sk2:s:user_to_mc:",
        "sk1:s:user_to_mc:user",
        "sk1::user_to_mc:",
        "sk1:s:user_to_mc:alien=x",
    ],
)
def test_parse_rejects_bad_keys(text: str) -> None:
    with pytest.raises(ValueError):
        SessionKey.parse(text)


def test_resolve_session_key_function_matches_method() -> None:
    s = session("s", "user_to_agent", USER, agent("a", "coder"))
    assert resolve_session_key(s.session_id, s.session_type, s.participants) == s.resolve_key()
    with pytest.raises(ValueError):
        resolve_session_key("s", "bogus", [USER])


# -- session ↔ record ---------------------------------------------------------------------------
def test_session_to_record_and_back() -> None:
    s = ConversationSession(
        "session_002",
        [MC, agent("agent_001", "data_analyst")],
        "mc_to_agent",
        T0,
        T0 + timedelta(minutes=5),
        {"task_type": "data_analysis"},
    )
    rec = s.to_record(owner_id="acct-1", record_id="rec-1")
    assert isinstance(rec, ConversationRecord)
    assert rec.id == "rec-1" and rec.owner_id == "acct-1"
    assert rec.kind is ConversationKind.CONVERSATION_SESSION
    # One base session_id names several isolated channels: the record's external id is the key,
    # the base id travels in the face's metadata and comes back.
    assert rec.session_id == rec.session_key == "session_002_mc_to_data_analyst"
    assert rec.session_type == "mc_to_agent"
    assert [p.participant_id for p in rec.participants] == ["mc_001", "agent_001"]
    assert rec.participants[1].participant_role == "data_analyst"
    assert rec.created_at == T0 and rec.last_activity_at == T0 + timedelta(minutes=5)
    caller_metadata, extras = split_face_metadata(rec.metadata, "conversation_session")
    assert caller_metadata == {"task_type": "data_analysis"}
    assert extras["session_id"] == "session_002"
    assert ConversationSession.from_record(rec) == s
    assert s.to_record().owner_id == "local"


def test_session_to_record_structured_key() -> None:
    s = session("s1", "mc_to_agent", MC, agent("agent_001", "writer"))
    assert s.to_record(key_style="structured").session_key == str(s.resolve_key())


def test_session_from_record_needs_session_type() -> None:
    rec = ConversationRecord(
        owner_id="o", kind=ConversationKind.AGENT_SESSION, participants=[USER.to_record()]
    )
    with pytest.raises(ValueError, match="has no session_type"):
        ConversationSession.from_record(rec)


def test_session_from_record_falls_back_to_record_id() -> None:
    rec = session("s", "user_to_mc", USER, MC).to_record(record_id="rid")
    rec.session_id = None
    rec.metadata = {}  # a record not written by this face: no base id recorded
    assert ConversationSession.from_record(rec).session_id == "rid"


def test_reserved_metadata_key_is_refused_on_write() -> None:
    s = session("s", "user_to_mc", USER, MC)
    s.metadata = {"_convoledger_face": {"face": "x"}}
    with pytest.raises(ValueError, match="reserved"):
        s.to_record()


def test_session_from_dict_errors_are_value_errors() -> None:
    good = session("s", "user_to_mc", USER, MC).to_dict()
    for key in ("session_id", "participants", "session_type", "created_at", "last_activity"):
        broken = {k: v for k, v in good.items() if k != key}
        with pytest.raises(ValueError, match=key):
            ConversationSession.from_dict(broken)
    with pytest.raises(ValueError, match="participants must be a list"):
        ConversationSession.from_dict({**good, "participants": "u"})
    with pytest.raises(ValueError, match="unsupported schema_version"):
        ConversationSession.from_dict({**good, "schema_version": "9.0"})
    with pytest.raises(ValueError):
        ConversationSession.from_dict(["not", "a", "dict"])
