"""SGD importer on real Schema-Guided Dialogue records and on malformed input."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from importer_helpers import records_at, split

from convoledger.importers import RecordError, open_records, parse_sgd

SGD = "task_oriented/sgd_train_sample.jsonl.gz"


@pytest.fixture(scope="module")
def sgd_records(data_dir: Path) -> dict[str, tuple[int, dict]]:
    """Line 1 (dialogue 1_00000, Restaurants_1) and line 1792 (44_00000, Events_2 + Buses_2)."""
    found = records_at(data_dir / SGD, {1, 1792})
    return {rec["dialogue_id"]: (line, rec) for line, rec in found}


def test_single_service_dialogue(sgd_records: dict) -> None:
    line, rec = sgd_records["1_00000"]
    [conv], errors = split(parse_sgd([(line, rec)], owner_id="alice"))
    assert errors == []
    c = conv.conversation
    assert conv.source_line == 1
    assert c.kind == "conversation" and c.owner_id == "alice"
    assert c.session_id.startswith("sgd:1_00000:")
    assert c.topic == "Restaurants_1"
    # 24 turns, 3 SYSTEM service calls → each adds an assistant tool call and a tool result
    assert len(rec["turns"]) == 24
    assert len(conv.messages) == 24 + 2 * 3
    first = conv.messages[0]
    assert (first.role, first.sender, first.recipient) == ("user", "user", "assistant")
    assert first.content == "I am feeling hungry so I would like to find a place to eat."
    assert first.metadata["state"] == {
        "Restaurants_1": {"active_intent": "FindRestaurants", "requested_slots": [], "slot_values": {}}
    }
    assert conv.messages[1].content.startswith("Do you have a specific which you want the eating place")
    goal = c.current_goal
    assert goal["service"] == "Restaurants_1"
    assert goal["active_intent"] == "ReserveRestaurant"
    assert goal["intents"] == ["FindRestaurants", "ReserveRestaurant"]
    assert goal["slot_values"]["restaurant_name"] == ["Bird Dog"]
    assert goal["slot_values"]["city"] == ["Palo Alto"]
    assert goal["slot_values"]["time"] == ["11:30 am"]


def test_service_calls_become_linked_tool_call_and_result(sgd_records: dict) -> None:
    line, rec = sgd_records["1_00000"]
    [conv], _ = split(parse_sgd([(line, rec)]))
    msgs = conv.messages
    calls = [i for i, m in enumerate(msgs) if m.tool_calls]
    assert len(calls) == 3
    first = msgs[calls[0]]
    call = first.tool_calls[0]
    # turn 5 (SYSTEM) of the source calls FindRestaurants(city=San Jose, cuisine=American)
    assert call["function"]["name"] == "FindRestaurants"
    assert json.loads(call["function"]["arguments"]) == {"city": "San Jose", "cuisine": "American"}
    result = msgs[calls[0] + 1]
    assert (
        result.role == "tool" and result.tool_call_id == call["id"] and result.tool_name == "FindRestaurants"
    )
    assert json.loads(result.content)[0]["restaurant_name"] == "71 Saint Peter"
    # the system utterance of that turn follows the result
    after = msgs[calls[0] + 2]
    assert after.role == "assistant" and "71 Saint Peter" in after.content
    assert after.metadata["turn_index"] == first.metadata["turn_index"] == 5
    # every tool result answers the call just before it
    for i, m in enumerate(msgs):
        if m.role == "tool":
            assert msgs[i - 1].tool_call_ids == [m.tool_call_id]


def test_multi_service_goal_keeps_latest_intent_and_every_service(sgd_records: dict) -> None:
    line, rec = sgd_records["44_00000"]
    [conv], _ = split(parse_sgd([(line, rec)]))
    goal = conv.conversation.current_goal
    # the user ends with "No thank you" (intent NONE) after buying event tickets
    assert goal["service"] == "Events_2"
    assert goal["active_intent"] == "BuyEventTickets"
    assert goal["final_intent"] == "NONE"
    assert goal["intents"] == ["GetEventDates", "BuyBusTicket", "BuyEventTickets"]
    assert goal["slot_values"]["number_of_tickets"] == ["2"]
    assert goal["services"]["Buses_2"]["active_intent"] == "BuyBusTicket"
    assert goal["services"]["Buses_2"]["slot_values"]["origin"] == ["San Francisco"]
    user_msgs = [m for m in conv.messages if m.role == "user"]
    assert user_msgs[1].metadata["state"]["Events_2"]["slot_values"] == {
        "city": ["Berkeley"],
        "event_name": ["Golden Bears Vs Trojans"],
    }
    assert conv.conversation.topic == "Events_2, Buses_2"


def test_whole_train_sample_imports(data_dir: Path) -> None:
    convs = errors = messages = turns = calls = 0
    session_ids = set()
    for result in parse_sgd(open_records(data_dir / SGD)):
        if isinstance(result, RecordError):
            errors += 1
            continue
        convs += 1
        session_ids.add(result.conversation.session_id)
        messages += len(result.messages)
        turns += sum(1 for m in result.messages if "speaker" in m.metadata and not m.tool_calls)
        calls += sum(1 for m in result.messages if m.tool_calls)
    # README: 4,095 dialogues / 77,622 turns
    assert (convs, errors, turns) == (4095, 0, 77_622)
    assert messages == turns + 2 * calls
    assert len(session_ids) == convs  # no two dialogues share an id


def test_bad_records_are_reported_by_line_and_others_imported(sgd_records: dict, tmp_path: Path) -> None:
    _, good = sgd_records["1_00000"]
    bad_speaker = copy.deepcopy(good)
    bad_speaker["dialogue_id"] = "x_1"
    bad_speaker["turns"][10]["speaker"] = "BOT"  # a bad turn deep inside: nothing of it is kept
    bad_call = copy.deepcopy(good)
    bad_call["dialogue_id"] = "x_2"
    bad_call["turns"][5]["frames"][0]["service_call"] = {"parameters": {}}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps(bad_speaker),
        json.dumps({"dialogue_id": "x_3"}),
        json.dumps(bad_call),
        json.dumps(["a", "list"]),
        json.dumps(good).replace("1_00000", "1_99999"),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    convs, errors = split(parse_sgd(open_records(path)))
    assert [c.source_line for c in convs] == [1, 7]
    assert [e.line for e in errors] == [2, 3, 4, 5, 6]
    reasons = {e.line: e.reason for e in errors}
    assert "invalid JSON" in reasons[2]
    assert "turns[10].speaker" in reasons[3] and "BOT" in reasons[3]
    assert "turns" in reasons[4]
    assert "service_call.method" in reasons[5]
    assert "JSON object" in reasons[6]
