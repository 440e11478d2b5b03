"""Importer for BFCL multi-turn tasks (format ``bfcl``).

Source: ShishirPatil/gorilla ``berkeley-function-call-leaderboard`` (Apache-2.0),
``BFCL_v4_multi_turn_*.json`` joined by ``id`` with ``possible_answer``: ``{id,
question[[{role, content}] per turn], initial_config, path, involved_classes,
excluded_function?, missed_function?{turn: [names]}, ground_truth[["func(args)"] per turn]}``.
The tasks have user turns and the gold function calls of each turn, **no assistant text and no
results** (nothing was run).

Each task becomes one conversation of kind ``agent_session``. Every message of every turn is
stored with its role (``user``, or ``system`` if a turn carries one); ``metadata["turn"]`` is the
turn index. The gold calls are labels, not events, so they are not stored as tool calls (a call
without a result would be dropped from context windows anyway): the last message of turn ``t``
carries ``metadata["ground_truth"]`` (the call strings as written) and
``metadata["ground_truth_calls"]`` (each parsed into ``{"name", "arguments"}`` with Python's own
parser, positional arguments under ``"args"``; a string that does not parse is kept as
``{"unparsed"}``). A turn with no message (BFCL's "missed function" turns, where the held-back
functions become available) becomes a ``system`` message of type ``functions_added`` whose
content names them. ``initial_config``, ``path``, ``involved_classes``, ``excluded_function``,
``missed_function`` go to the conversation's metadata; ``current_goal`` = the first user
message. ``session_id`` = ``"bfcl:{id}"``. Messages get the import time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from convoledger.importers.common import (
    DEFAULT_OWNER,
    USER_ID,
    ImportContext,
    ImportedConversation,
    ImportResult,
    RecordShapeError,
    chat_participants,
    chat_sender,
    content_hash,
    conversation_uuid,
    finish,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
    source_id_of,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "bfcl"
ROLES = {"user": "user", "system": "system", "assistant": "assistant"}


def parse_bfcl(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of BFCL multi-turn tasks; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def parse_call(text: str) -> dict[str, Any]:
    """``"mv(source='a', destination='b')"`` → ``{"name": "mv", "arguments": {"source": "a",
    "destination": "b"}}`` (positional arguments under ``"args"``; dotted names kept). Literals
    only (``ast.literal_eval``); anything else → ``{"unparsed": text}``."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not isinstance(node, ast.Call):
            raise ValueError("not a call")
        name = ast.unparse(node.func)
        arguments: dict[str, Any] = {kw.arg or "**": ast.literal_eval(kw.value) for kw in node.keywords}
        if node.args:
            arguments["args"] = [ast.literal_eval(a) for a in node.args]
    except (SyntaxError, ValueError, TypeError):
        return {"unparsed": text}
    return {"name": name, "arguments": arguments}


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    question = require_list(rec.get("question"), "question")
    truth = require_list(rec.get("ground_truth", []), "ground_truth", non_empty=False)
    missed: dict[Any, Any] = rec["missed_function"] if isinstance(rec.get("missed_function"), dict) else {}
    messages: list[MessageRecord] = []
    for t, raw_turn in enumerate(question):
        turn = require_list(raw_turn, f"question[{t}]", non_empty=False)
        calls = truth[t] if t < len(truth) else None
        if calls is not None:
            calls = [
                require_str(c, f"ground_truth[{t}][{k}]")
                for k, c in enumerate(require_list(calls, f"ground_truth[{t}]", non_empty=False))
            ]
        start = len(messages)
        for k, item in enumerate(turn):
            msg = require_dict(item, f"question[{t}][{k}]")
            role = ROLES.get(msg.get("role"))  # type: ignore[arg-type]
            if role is None:
                raise RecordShapeError(f"question[{t}][{k}].role must be one of {sorted(ROLES)}")
            messages.append(
                MessageRecord(
                    role=role,
                    content=require_str(msg.get("content"), f"question[{t}][{k}].content"),
                    sender=chat_sender(role),
                    metadata={"turn": t, **{x: v for x, v in msg.items() if x not in ("role", "content")}},
                    created_at=ctx.imported_at,
                )
            )
        if len(messages) == start:
            added = missed.get(str(t)) or missed.get(t) or []
            messages.append(
                MessageRecord(
                    role="system",
                    content=f"functions made available: {', '.join(map(str, added))}" if added else "",
                    message_type="functions_added",
                    metadata={"turn": t, "functions_added": added},
                    created_at=ctx.imported_at,
                )
            )
        if calls is not None:
            messages[-1].metadata["ground_truth"] = calls
            messages[-1].metadata["ground_truth_calls"] = [parse_call(c) for c in calls]
    if len(truth) > len(question):
        raise RecordShapeError(f"ground_truth has {len(truth)} turns but question has {len(question)}")
    source_id = source_id_of(rec.get("id"))
    session_id = f"{FORMAT}:{source_id or content_hash(rec)}"
    first_user = next((m.content for m in messages if m.role == "user"), "")
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=f"BFCL {source_id}: {short_title(first_user, 60)}",
        user_id=USER_ID,
        current_goal={"first_request": first_user} if first_user else None,
        participants=chat_participants(),
        metadata={
            "source_format": FORMAT,
            "source_id": source_id,
            **{k: v for k, v in rec.items() if k not in ("id", "question", "ground_truth")},
        },
        created_at=ctx.imported_at,
    )
    return [finish(conversation, messages, line)]
