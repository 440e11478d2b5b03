"""Importer for Schema-Guided Dialogue dialogues (format ``sgd``).

Source: google-research-datasets/dstc8-schema-guided-dialogue (CC BY-SA 4.0); record shape
``{dialogue_id, services[], turns[{speaker: USER|SYSTEM, utterance, frames[{service, slots,
actions[{act, slot, values, canonical_values}], state{active_intent, requested_slots,
slot_values} (USER only), service_call{method, parameters} and service_results[] (SYSTEM
only)}]}]}`` (the dataset's README, "Dialogue Representation").

Each dialogue becomes one conversation of kind ``conversation`` (the virtual-assistant
``Conversation`` face) with participants ``user`` and ``assistant``:

- a USER turn → a ``user`` message; ``metadata["state"]`` = that turn's dialogue state per
  service (``{service: {active_intent, requested_slots, slot_values}}``) and
  ``metadata["actions"]`` its dialogue acts;
- a SYSTEM turn whose frame has a ``service_call`` → first an ``assistant`` message with one
  OpenAI-style tool call (``id`` = ``"sgd-{dialogue_id}-t{turn}-f{frame}"``, ``function.name`` =
  the method, ``function.arguments`` = the parameters as JSON text), then a ``tool`` message with
  the same ``tool_call_id`` whose content is ``service_results`` as JSON text, then the system
  utterance as an ``assistant`` message (with its acts in metadata);
- ``current_goal`` (the state after the last user turn): ``service`` and ``active_intent`` of
  the most recent user frame whose intent was not ``NONE`` (SGD marks a finished or declined
  goal with ``NONE``), that service's latest ``slot_values`` and ``requested_slots``,
  ``final_intent`` (the raw last intent of that service, possibly ``"NONE"``), ``intents`` (every
  intent in order of first appearance) and ``services`` (the latest state of each service).

``session_id`` = ``"sgd:{dialogue_id}:{hash}"``: SGD dialogue ids are unique only within a
split (train and dev both have ``1_00000``), so 12 hex digits of the record's SHA-256 are
appended. Messages get the import time (SGD has no timestamps).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import (
    ASSISTANT_ID,
    DEFAULT_OWNER,
    USER_ID,
    ImportContext,
    ImportedConversation,
    ImportResult,
    RecordShapeError,
    chat_participants,
    content_hash,
    conversation_uuid,
    finish,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "sgd"
NO_INTENT = "NONE"


def parse_sgd(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of SGD dialogues; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


class _GoalTracker:
    """Latest dialogue state per service, as the USER turns reveal it."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.last_intent: dict[str, str] = {}
        self.active_service: str | None = None
        self.intents: list[str] = []

    def update(self, service: str, state: dict[str, Any], where: str) -> dict[str, Any]:
        intent = state.get("active_intent")
        if not isinstance(intent, str):
            raise RecordShapeError(f"{where}.state.active_intent must be a string")
        slot_values = require_dict(state.get("slot_values", {}), f"{where}.state.slot_values")
        requested = require_list(
            state.get("requested_slots", []), f"{where}.state.requested_slots", non_empty=False
        )
        clean = {"active_intent": intent, "requested_slots": requested, "slot_values": slot_values}
        self.states[service] = clean
        if intent != NO_INTENT:
            self.last_intent[service] = intent
            self.active_service = service
            if intent not in self.intents:
                self.intents.append(intent)
        return clean

    def goal(self) -> dict[str, Any] | None:
        if not self.states:
            return None
        service = self.active_service or next(reversed(self.states))
        state = self.states[service]
        return {
            "service": service,
            "active_intent": self.last_intent.get(service, state["active_intent"]),
            "slot_values": state["slot_values"],
            "requested_slots": state["requested_slots"],
            "final_intent": state["active_intent"],
            "intents": list(self.intents),
            "services": {
                name: {
                    "active_intent": self.last_intent.get(name, st["active_intent"]),
                    "slot_values": st["slot_values"],
                    "requested_slots": st["requested_slots"],
                }
                for name, st in self.states.items()
            },
        }


def _actions(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for frame in frames:
        for act in frame.get("actions") or []:
            if isinstance(act, dict):
                out.append(
                    {
                        "service": frame.get("service"),
                        "act": act.get("act"),
                        "slot": act.get("slot"),
                        "values": act.get("values"),
                    }
                )
    return out


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    dialogue_id = require_str(rec.get("dialogue_id"), "dialogue_id", allow_empty=False)
    services = require_list(rec.get("services", []), "services", non_empty=False)
    turns = require_list(rec.get("turns"), "turns")
    tracker = _GoalTracker()
    messages: list[MessageRecord] = []
    when = ctx.imported_at
    for i, item in enumerate(turns):
        where = f"turns[{i}]"
        turn = require_dict(item, where)
        speaker = turn.get("speaker")
        utterance = require_str(turn.get("utterance"), f"{where}.utterance")
        frames = [
            require_dict(f, f"{where}.frames[{j}]")
            for j, f in enumerate(require_list(turn.get("frames", []), f"{where}.frames", non_empty=False))
        ]
        if speaker == "USER":
            turn_state = {}
            for j, frame in enumerate(frames):
                service = require_str(frame.get("service"), f"{where}.frames[{j}].service", allow_empty=False)
                if frame.get("state") is not None:
                    state = require_dict(frame["state"], f"{where}.frames[{j}].state")
                    turn_state[service] = tracker.update(service, state, f"{where}.frames[{j}]")
            messages.append(
                MessageRecord(
                    role="user",
                    content=utterance,
                    sender=USER_ID,
                    recipient=ASSISTANT_ID,
                    metadata={
                        "turn_index": i,
                        "speaker": "USER",
                        "state": turn_state,
                        "actions": _actions(frames),
                    },
                    created_at=when,
                )
            )
        elif speaker == "SYSTEM":
            for j, frame in enumerate(frames):
                if frame.get("service_call") is None:
                    continue
                messages.extend(_service_call(dialogue_id, i, j, frame, when))
            messages.append(
                MessageRecord(
                    role="assistant",
                    content=utterance,
                    sender=ASSISTANT_ID,
                    recipient=USER_ID,
                    metadata={"turn_index": i, "speaker": "SYSTEM", "actions": _actions(frames)},
                    created_at=when,
                )
            )
        else:
            raise RecordShapeError(f"{where}.speaker must be 'USER' or 'SYSTEM', got {speaker!r}")
    session_id = f"sgd:{dialogue_id}:{content_hash(rec)}"
    first_user = next((m.content for m in messages if m.role == "user"), "")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.CONVERSATION,
        name=f"SGD {dialogue_id}: {short_title(first_user, 60)}",
        user_id=USER_ID,
        topic=", ".join(str(s) for s in services) or None,
        current_goal=tracker.goal(),
        participants=chat_participants(),
        metadata={"source_format": FORMAT, "dialogue_id": dialogue_id, "services": services},
        created_at=when,
    )
    return [finish(conversation, messages, line)]


def _service_call(
    dialogue_id: str, turn: int, index: int, frame: dict[str, Any], when: datetime
) -> list[MessageRecord]:
    where = f"turns[{turn}].frames[{index}]"
    call = require_dict(frame["service_call"], f"{where}.service_call")
    method = require_str(call.get("method"), f"{where}.service_call.method", allow_empty=False)
    parameters = require_dict(call.get("parameters", {}), f"{where}.service_call.parameters")
    results = require_list(frame.get("service_results", []), f"{where}.service_results", non_empty=False)
    service = frame.get("service")
    call_id = f"sgd-{dialogue_id}-t{turn}-f{index}"
    tool_call = {
        "id": call_id,
        "type": "function",
        "function": {"name": method, "arguments": json.dumps(parameters, ensure_ascii=False)},
    }
    return [
        MessageRecord(
            role="assistant",
            content="",
            sender=ASSISTANT_ID,
            tool_calls=[tool_call],
            metadata={"turn_index": turn, "service": service, "speaker": "SYSTEM"},
            created_at=when,
        ),
        MessageRecord(
            role="tool",
            content=json.dumps(results, ensure_ascii=False),
            tool_call_id=call_id,
            tool_name=method,
            metadata={"turn_index": turn, "service": service, "result_count": len(results)},
            created_at=when,
        ),
    ]
