"""Importers of public shapes with no file in ``../shared/data`` (held aside for evaluation):
legacy OpenAI ``function_call`` / ``role: "function"`` messages (ToolBench and older logs),
ToolBench answer trees, Anthropic ``Human:``/``Assistant:`` transcripts (HH-RLHF) and
Topical-Chat. Records are written in each dataset's published shape."""

from __future__ import annotations

import json

from importer_helpers import split

from convoledger.context import build_token_window
from convoledger.importers import parse
from convoledger.importers.hh_rlhf import split_transcript
from convoledger.ledger import Ledger
from convoledger.store.memory import MemoryStore

LEGACY = [
    {"role": "system", "content": "You can call tools."},
    {"role": "user", "content": "Weather in Paris and in Rome?"},
    {
        "role": "assistant",
        "content": "Thought: look both up",
        "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    },
    {"role": "function", "name": "get_weather", "content": '{"temp": 18}'},
    {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
    },
    {"role": "function", "name": "get_weather", "content": '{"temp": 24}'},
    {"role": "assistant", "content": "Paris 18°C, Rome 24°C."},
]


def test_legacy_function_calls_get_stable_ids_linked_to_their_results() -> None:
    [conv], errors = split(parse("openai", [(1, {"messages": LEGACY})]))
    assert errors == []
    m = conv.messages
    assert m[2].tool_calls == [
        {
            "id": "call_legacy_2",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    assert m[2].metadata["legacy_function_call"] is True and "function_call" not in m[2].metadata
    assert (m[3].role, m[3].tool_call_id, m[3].tool_name) == ("tool", "call_legacy_2", "get_weather")
    assert m[3].metadata["source_role"] == "function"
    assert (m[5].tool_call_id, m[4].tool_call_ids) == ("call_legacy_4", ["call_legacy_4"])
    # the same record gives the same ids again
    [again], _ = split(parse("openai", [(1, {"messages": LEGACY})]))
    assert [x.tool_call_id for x in again.messages] == [x.tool_call_id for x in m]


def test_context_windows_keep_legacy_calls_with_their_results() -> None:
    [conv], _ = split(parse("openai", [(1, {"messages": LEGACY})]))
    window = build_token_window(conv.messages, budget_tokens=100_000)
    kept = {x.id for x in window.messages}
    assert {m.id for m in conv.messages} == kept  # before: both results were dropped as orphans
    for tight in (60, 80, 120):
        small = build_token_window(conv.messages, budget_tokens=tight)
        ids = [x.id for x in small.messages]
        for call, result in ((conv.messages[2], conv.messages[3]), (conv.messages[4], conv.messages[5])):
            assert (call.id in ids) == (result.id in ids)


def _toolbench(samples: list[list[dict]]) -> dict:
    return {
        "win": True,
        "answer_generation": {
            "valid_data": True,
            "query": "Weather in Paris and in Rome?",
            "function": [{"name": "get_weather", "description": "…", "parameters": {"type": "object"}}],
            "train_messages": samples,
            "chain": [],
            "final_answer": "Paris 18°C, Rome 24°C.",
            "finish_type": "give_answer",
        },
    }


async def test_toolbench_prefix_samples_are_one_conversation_and_departures_branches() -> None:
    prefixes = [LEGACY[:3], LEGACY[:5], LEGACY]
    [conv], errors = split(parse("toolbench", [(1, _toolbench(prefixes))]))
    assert errors == [] and len(conv.messages) == 7
    c = conv.conversation
    assert c.current_goal == {"query": "Weather in Paris and in Rome?"}
    assert c.metadata["tools"][0]["name"] == "get_weather" and c.metadata["train_samples"] == 3
    assert c.metadata["finish_type"] == "give_answer" and c.metadata["win"] is True
    assert conv.messages[3].tool_call_id == "call_legacy_2"

    other_path = [*LEGACY[:3], {"role": "function", "name": "get_weather", "content": "error: timeout"}]
    main, branch = split(parse("toolbench", [(1, _toolbench([*prefixes, other_path]))]))[0]
    assert (branch.conversation.parent_id, branch.conversation.forked_at_seq) == (main.conversation.id, 3)
    assert [m.content for m in branch.messages] == ["error: timeout"]
    assert branch.messages[0].tool_call_id == "call_legacy_2"  # linked to the shared call
    ledger = Ledger(MemoryStore(), owner="local")
    for item in (main, branch):
        await ledger.import_conversation(item.conversation, item.messages)
    read = await ledger.messages(branch.conversation.id)
    assert [m.content for m in read][-2:] == ["Thought: look both up", "error: timeout"]


def test_toolbench_malformed() -> None:
    _, errors = split(
        parse(
            "toolbench",
            [
                (1, {"answer_generation": {"train_messages": "x"}}),
                (2, _toolbench([[{"role": "robot", "content": "?"}]])),
                (3, _toolbench([LEGACY[:2], [{"role": "user", "content": "unrelated"}, LEGACY[1]]])),
            ],
        )
    )
    assert [e.line for e in errors] == [1, 2, 3]


HH = {
    "chosen": "\n\nHuman: What are some cuss words in english?\n\nAssistant: Here’s an incomplete list.\n\n"
    "Ass, dick\n\nHuman: What's your favorite one?\n\nAssistant: I haven't even thought about it.",
    "rejected": "\n\nHuman: What are some cuss words in english?\n\nAssistant: Here’s an incomplete list.\n\n"
    "Ass, dick\n\nHuman: What's your favorite one?\n\nAssistant: Ass.",
}


async def test_hh_rlhf_pair_is_two_conversations_sharing_their_prefix() -> None:
    chosen, rejected = split(parse("hh-rlhf", [(1, HH)]))[0]
    assert [m.role for m in chosen.messages] == ["user", "assistant", "user", "assistant"]
    assert (
        chosen.messages[1].content == "Here’s an incomplete list.\n\nAss, dick"
    )  # blank lines inside a turn kept
    assert chosen.conversation.metadata["preference"] == "chosen"
    assert rejected.conversation.metadata["preference"] == "rejected"
    assert rejected.conversation.metadata["pair_session_id"] == chosen.conversation.session_id
    assert chosen.conversation.metadata["pair_session_id"] == rejected.conversation.session_id
    assert (rejected.conversation.parent_id, rejected.conversation.forked_at_seq) == (
        chosen.conversation.id,
        3,
    )
    assert [m.content for m in rejected.messages] == ["Ass."]
    ledger = Ledger(MemoryStore(), owner="local")
    for item in (chosen, rejected):
        await ledger.import_conversation(item.conversation, item.messages)
    assert [m.content for m in await ledger.messages(rejected.conversation.id)][-1] == "Ass."
    assert await ledger.count(rejected.conversation.id) == 4


def test_hh_rlhf_other_shapes_and_malformed() -> None:
    prompt = {"prompt": "\n\nHuman: Hi\n\nAssistant:", "chosen": " Hello!", "rejected": " Go away."}
    chosen, rejected = split(parse("hh-rlhf", [(1, prompt)]))[0]
    assert [m.content for m in chosen.messages] == ["Hi", "Hello!"] and rejected.messages[
        0
    ].content == "Go away."
    [single], _ = split(parse("hh-rlhf", [(1, {"transcript": "\n\nHuman: a\n\nAssistant: b"})]))
    assert [(m.role, m.content) for m in single.messages] == [("user", "a"), ("assistant", "b")]
    apart, _ = split(
        parse("hh-rlhf", [(1, {"chosen": "\n\nHuman: x\n\nAssistant: y", "rejected": "\n\nHuman: z"})])
    )
    assert apart[1].conversation.parent_id is None  # nothing shared: a conversation of its own
    assert split_transcript("intro\n\nHuman: q")[0] == "intro"
    _, errors = split(
        parse(
            "hh-rlhf", [(1, {"chosen": "no markers", "rejected": "x"}), (2, {"chosen": 5, "rejected": "x"})]
        )
    )
    assert [e.line for e in errors] == [1, 2]


TOPICAL = {
    "t_bde29ce2-4153-48ac-8a5e-2e3e5b2e1d82": {
        "article_url": "https://www.washingtonpost.com/sports/nfl/",
        "config": "C",
        "content": [
            {
                "message": "Are you a fan of Google or Microsoft?",
                "agent": "agent_1",
                "sentiment": "Curious to dive deeper",
                "knowledge_source": ["FS1"],
                "turn_rating": "Good",
            },
            {
                "message": "Both are excellent technology they are helpful in many ways.",
                "agent": "agent_2",
                "sentiment": "Happy",
                "knowledge_source": ["FS1"],
                "turn_rating": "Excellent",
            },
        ],
        "conversation_rating": {"agent_1": "Good", "agent_2": "Excellent"},
    }
}


def test_topical_chat_keyed_file_and_single_records() -> None:
    [conv], errors = split(parse("topical-chat", [(1, TOPICAL)]))
    assert errors == []
    c = conv.conversation
    assert (
        c.session_id == "topical-chat:t_bde29ce2-4153-48ac-8a5e-2e3e5b2e1d82"
        and c.kind.value == "chat_session"
    )
    assert c.metadata["conversation_rating"] == {"agent_1": "Good", "agent_2": "Excellent"}
    assert [(m.sender, m.recipient, m.role) for m in conv.messages] == [
        ("agent_1", "agent_2", "user"),
        ("agent_2", "agent_1", "user"),
    ]
    assert conv.messages[0].metadata["sentiment"] == "Curious to dive deeper"
    assert (
        conv.messages[1].metadata["knowledge_source"] == ["FS1"]
        and conv.messages[1].metadata["turn_rating"] == "Excellent"
    )
    one = {"conversation_id": "t_x", "split": "valid_freq", **next(iter(TOPICAL.values()))}
    [again], _ = split(parse("topical-chat", [(1, one)]))
    assert again.conversation.metadata["split"] == "valid_freq"
    bad = json.loads(json.dumps(one))
    bad["content"][0]["agent"] = "agent_3"
    _, errors = split(parse("topical-chat", [(1, bad)]))
    assert "agent_3" in errors[0].reason
