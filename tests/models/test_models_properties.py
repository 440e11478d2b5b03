"""Hypothesis properties of every face.

1. Random valid models round-trip *equal* through ``to_dict``/``from_dict`` (also via JSON text)
   and through ``to_record``/``from_record``.
2. Random invalid input — wrong types, wrong values, missing keys, non-JSON values, non-dicts —
   raises ``ValueError`` (pydantic's ``ValidationError`` is one) and never another exception.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from convoledger import (
    FACE_KEY,
    MESSAGE_TYPES,
    PARTICIPANT_TYPES,
    SESSION_TYPES,
    AgentCommunicationMessage,
    AgentSession,
    ChatMessage,
    ChatSession,
    Conversation,
    ConversationParticipant,
    ConversationSession,
    ConversationStatus,
    ConversationTurn,
    MessageRole,
    SessionKey,
    SessionMessage,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.text(min_size=1, max_size=12)
opt_ids = st.none() | ids
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
metadata = st.dictionaries(st.text(max_size=6).filter(lambda k: k != FACE_KEY), json_values, max_size=3)
zones = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
times = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1), timezones=zones)
statuses = st.sampled_from(list(ConversationStatus))
roles = st.sampled_from(list(MessageRole))
tool_calls = st.none() | st.lists(metadata, min_size=1, max_size=2)

_REQUIRED = {
    "user_to_mc": ["user", "master_controller"],
    "mc_to_agent": ["master_controller", "agent"],
    "agent_to_agent": ["agent", "agent"],
    "user_to_agent": ["user", "agent"],
}


@st.composite
def participants(
    draw: st.DrawFn, pid: str | None = None, ptype: str | None = None
) -> ConversationParticipant:
    ptype = ptype or draw(st.sampled_from(sorted(PARTICIPANT_TYPES)))
    role = draw(ids) if ptype == "agent" else draw(opt_ids)
    return ConversationParticipant(pid or draw(ids), ptype, role, draw(metadata))


@st.composite
def sessions(draw: st.DrawFn) -> ConversationSession:
    stype = draw(st.sampled_from(sorted(SESSION_TYPES)))
    types = draw(
        st.permutations(
            _REQUIRED[stype] + draw(st.lists(st.sampled_from(sorted(PARTICIPANT_TYPES)), max_size=3))
        )
    )
    pids = draw(st.lists(ids, min_size=len(types), max_size=len(types), unique=True))
    members = [draw(participants(pid, t)) for pid, t in zip(pids, types, strict=True)]
    return ConversationSession(draw(ids), members, stype, draw(times), draw(times), draw(metadata))


@st.composite
def agent_messages(draw: st.DrawFn) -> AgentCommunicationMessage:
    return AgentCommunicationMessage(
        draw(st.just("") | ids), draw(ids), draw(ids), draw(ids), draw(opt_ids), draw(ids), draw(ids),
        draw(opt_ids), draw(ids), draw(st.sampled_from(sorted(MESSAGE_TYPES))), draw(times), draw(metadata),
    )  # fmt: skip


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    return Conversation(
        conversation_id=draw(st.uuids()),
        user_id=draw(ids),
        device_id=draw(opt_ids),
        start_timestamp=draw(times),
        last_activity_timestamp=draw(times),
        status=draw(statuses),
        topic=draw(opt_ids),
        current_goal=draw(json_values),
        metadata=draw(metadata),
    )


@st.composite
def turns(draw: st.DrawFn) -> ConversationTurn:
    role = draw(roles)
    calls = draw(tool_calls)
    empty_ok = role is MessageRole.TOOL or (role is MessageRole.ASSISTANT and calls)
    return ConversationTurn(
        conversation_id=draw(ids),
        speaker=role,
        text=draw(st.text(max_size=12) if empty_ok else ids),
        turn_id=draw(ids),
        timestamp=draw(times),
        sender=draw(opt_ids),
        intent=draw(opt_ids),
        slots=draw(metadata),
        tool_call_id=draw(opt_ids),
        tool_name=draw(opt_ids),
        tool_calls=calls,
        metadata=draw(metadata),
    )


@st.composite
def agent_sessions(draw: st.DrawFn) -> AgentSession:
    return AgentSession(
        id=draw(st.uuids()),
        session_id=draw(ids),
        name=draw(opt_ids),
        description=draw(opt_ids),
        agent_name=draw(opt_ids),
        agent_instructions=draw(st.none() | st.text(max_size=40)),
        status=draw(statuses),
        user_id=draw(opt_ids),
        metadata=draw(metadata),
        message_count=draw(st.integers(min_value=0, max_value=10**9)),
        created_at=draw(times),
        updated_at=draw(times),
        last_activity_at=draw(times),
    )


@st.composite
def session_messages(draw: st.DrawFn) -> SessionMessage:
    role = draw(roles)
    calls = draw(tool_calls)
    empty_ok = role is MessageRole.TOOL or (role is MessageRole.ASSISTANT and calls)
    extra = draw(json_values)
    return SessionMessage(
        id=draw(ids),
        session_id=draw(ids),
        role=role,
        content=draw(st.text(max_size=12) if empty_ok else ids),
        tool_call_id=draw(opt_ids),
        tool_name=draw(opt_ids),
        tool_calls=calls,
        extra_data=json.dumps(extra)
        if draw(st.booleans())
        else (json.dumps(extra) if isinstance(extra, str) else extra),
        metadata=draw(metadata),
        seq=draw(st.integers(min_value=0, max_value=10**9)),
        created_at=draw(times),
        updated_at=draw(st.none() | times),
    )


epochs = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@st.composite
def chat_messages(draw: st.DrawFn) -> ChatMessage:
    recipient = draw(ids | st.sampled_from(["All", "all", "*"]))
    return ChatMessage(
        draw(ids), draw(ids), recipient, draw(st.text(max_size=12)), draw(times | epochs), draw(ids)
    )


@st.composite
def chat_sessions(draw: st.DrawFn) -> ChatSession:
    members = draw(st.lists(ids, max_size=5, unique=True))
    return ChatSession(
        draw(ids), members, draw(times | epochs), draw(times | epochs), draw(st.integers(0, 10**6))
    )


# -- 1. valid models round-trip equal -------------------------------------------------------------
FACES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (ConversationParticipant, participants()),
    (ConversationSession, sessions()),
    (AgentCommunicationMessage, agent_messages()),
    (Conversation, conversations()),
    (ConversationTurn, turns()),
    (AgentSession, agent_sessions()),
    (SessionMessage, session_messages()),
    (ChatMessage, chat_messages()),
    (ChatSession, chat_sessions()),
]


def _dict_round_trip(cls: Any, strategy: st.SearchStrategy[Any]) -> Callable[[], None]:
    @SETTINGS
    @given(strategy)
    def check(model: Any) -> None:
        d = model.to_dict()
        assert d["schema_version"] == "1.1"
        assert cls.from_dict(d) == model
        assert cls.from_dict(json.loads(json.dumps(d, allow_nan=False))) == model  # plain JSON only

    return check


test_participant_dict_round_trip = _dict_round_trip(*FACES[0])
test_session_dict_round_trip = _dict_round_trip(*FACES[1])
test_agent_message_dict_round_trip = _dict_round_trip(*FACES[2])
test_conversation_dict_round_trip = _dict_round_trip(*FACES[3])
test_turn_dict_round_trip = _dict_round_trip(*FACES[4])
test_agent_session_dict_round_trip = _dict_round_trip(*FACES[5])
test_session_message_dict_round_trip = _dict_round_trip(*FACES[6])
test_chat_message_dict_round_trip = _dict_round_trip(*FACES[7])
test_chat_session_dict_round_trip = _dict_round_trip(*FACES[8])


@SETTINGS
@given(st.one_of(*(s for _, s in FACES)))
def test_every_face_record_round_trip(model: Any) -> None:
    record = model.to_record()
    assert type(model).from_record(record) == model


@SETTINGS
@given(st.one_of(*(s for _, s in FACES)))
def test_every_face_pydantic_json_dump_round_trip(model: Any) -> None:
    """pydantic's own JSON dump (``model_dump(mode="json")``, or a ``TypeAdapter`` for the
    dataclass faces) gives plain JSON that validates back to an equal model."""
    cls = type(model)
    if isinstance(model, BaseModel):
        dumped = json.loads(json.dumps(model.model_dump(mode="json")))
        assert cls.model_validate(dumped) == model
    else:
        adapter = TypeAdapter(cls)
        dumped = json.loads(json.dumps(adapter.dump_python(model, mode="json")))
        assert adapter.validate_python(dumped) == model


@SETTINGS
@given(sessions())
def test_structured_key_round_trip_and_injective(s: ConversationSession) -> None:
    key = s.resolve_key()
    assert SessionKey.parse(str(key)) == key
    assert key.session_type == s.session_type and key.session_id == s.session_id


@SETTINGS
@given(sessions(), sessions())
def test_structured_keys_of_different_channels_differ(a: ConversationSession, b: ConversationSession) -> None:
    if (a.resolve_key().session_id, a.session_type, a.resolve_key().participants) != (
        b.resolve_key().session_id, b.session_type, b.resolve_key().participants,
    ):  # fmt: skip
        assert str(a.resolve_key()) != str(b.resolve_key())


@SETTINGS
@given(sessions())
def test_seed_key_matches_function_and_user_to_mc_is_session_id(s: ConversationSession) -> None:
    from convoledger import create_session_key

    assert s.generate_session_key() == create_session_key(s.session_id, s.session_type, s.participants)
    if s.session_type == "user_to_mc":
        assert s.generate_session_key() == s.session_id


# -- 2. invalid input raises ValueError, never anything else --------------------------------------
class Opaque:
    """An arbitrary object that is not JSON."""


anything = st.recursive(
    json_scalars
    | st.floats()
    | st.datetimes()
    | st.binary(max_size=4)
    | st.sets(st.integers(), max_size=2)
    | st.tuples(st.integers())
    | st.builds(Opaque)
    | st.sampled_from(list(ConversationStatus)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _must_be_value_error(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except ValueError:
        pass  # the contract: bad input is a ValueError (any other exception fails the test)


def _random_dicts(cls: Any, strategy: st.SearchStrategy[Any]) -> Callable[[], None]:
    @SETTINGS
    @given(strategy, st.data())
    def check(model: Any, data: st.DataObject) -> None:
        good = model.to_dict()
        key = data.draw(st.sampled_from(sorted(good)))
        replaced = {**good, key: data.draw(anything)}
        _must_be_value_error(lambda: cls.from_dict(replaced))
        dropped = {k: v for k, v in good.items() if k != key}
        _must_be_value_error(lambda: cls.from_dict(dropped))
        random_dict = data.draw(
            st.dictionaries(st.sampled_from(sorted(good)) | st.text(max_size=5), anything, max_size=6)
        )
        _must_be_value_error(lambda: cls.from_dict(random_dict))
        _must_be_value_error(lambda: cls.from_dict(data.draw(anything)))

    return check


test_participant_bad_dicts = _random_dicts(*FACES[0])
test_session_bad_dicts = _random_dicts(*FACES[1])
test_agent_message_bad_dicts = _random_dicts(*FACES[2])
test_conversation_bad_dicts = _random_dicts(*FACES[3])
test_turn_bad_dicts = _random_dicts(*FACES[4])
test_agent_session_bad_dicts = _random_dicts(*FACES[5])
test_session_message_bad_dicts = _random_dicts(*FACES[6])
test_chat_message_bad_dicts = _random_dicts(*FACES[7])
test_chat_session_bad_dicts = _random_dicts(*FACES[8])


@SETTINGS
@given(st.one_of(*(s for _, s in FACES)), st.data())
def test_constructors_with_random_arguments(model: Any, data: st.DataObject) -> None:
    """Keyword construction with the face's own field names, each value random (missing ones
    too); and positional construction, as the seed's dataclasses allow, with random values."""
    cls = type(model)
    names = sorted(model.to_dict().keys() - {"schema_version"} - {"is_active", "session_name"})
    kwargs = data.draw(st.dictionaries(st.sampled_from(names), anything, max_size=len(names)))
    _must_be_value_error(lambda: cls(**kwargs))
    if dataclasses.is_dataclass(cls):
        n = len(dataclasses.fields(cls))
        args = data.draw(st.lists(anything, max_size=n))
        _must_be_value_error(lambda: cls(*args))


@SETTINGS
@given(st.one_of(*(s for _, s in FACES)), st.data())
def test_random_assignments(model: Any, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(model.to_dict().keys() - {"schema_version"})))
    value = data.draw(anything)

    def assign() -> None:
        setattr(model, name, value)

    _must_be_value_error(assign)


@SETTINGS
@given(anything, anything)
def test_session_key_parse_and_validators_never_crash(a: Any, b: Any) -> None:
    from convoledger import validate_conversation_isolation_pattern, validate_session_key

    _must_be_value_error(lambda: SessionKey.parse(a))
    if isinstance(a, str):
        assert isinstance(validate_session_key(a, str(b)), bool)
        assert isinstance(validate_conversation_isolation_pattern(a, str(b)), bool)
