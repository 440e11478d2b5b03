"""Importer for ToolTalk conversations (format ``tooltalk``).

Source: microsoft/ToolTalk (MIT) ``data/tooltalk/*.json``, ``data/easy/*.json``: ``{name,
conversation_id, suites_used, apis_used, scenario?, user{username, email, …}, metadata{location,
timestamp, session_token?, username?}, conversation[{index?, role: user|assistant, text,
apis?[{request{api_name, parameters}, response, exception}]}]}`` (``_source_path`` added by the
shared collection).

Each conversation becomes one conversation of kind ``agent_session`` with participants ``user``
and ``assistant``. A user turn → a ``user`` message. An assistant turn with API calls → for each
call, in order, an ``assistant`` message with one tool call (id ``"tooltalk-{turn}-{k}"``,
``function.name`` = ``api_name``, ``function.arguments`` = the parameters as JSON text) and a
``tool`` message with that ``tool_call_id`` whose content is the ``response`` as JSON text (or,
when the call raised, ``{"exception": …}``; the exception is also in its metadata); then the
turn's ``text`` as an ``assistant`` message. The turn's ``index`` (and any other key) goes to the
metadata of its messages.

Time: ToolTalk gives one wall-clock ``metadata.timestamp`` per conversation (the simulated "now",
no zone; read as UTC): the conversation and its messages get it. ``user`` (the simulated
account), ``metadata``, ``scenario``, ``suites_used``, ``apis_used``, ``name``, ``_source_path``
go to the conversation's metadata; ``user.username`` → ``user_id``. ``session_id`` =
``"tooltalk:{conversation_id}"``.
"""

from __future__ import annotations

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
    function_call,
    json_text,
    require_dict,
    require_list,
    require_str,
    run_importer,
    short_title,
    source_id_of,
)
from convoledger.models.records import ConversationKind, ConversationRecord, MessageRecord
from convoledger.models.timeutil import ensure_utc, utcnow

FORMAT = "tooltalk"


def parse_tooltalk(
    records: Iterable[tuple[int, Any]],
    *,
    owner_id: str = DEFAULT_OWNER,
    imported_at: datetime | None = None,
) -> Iterator[ImportResult]:
    """Convert ``(line, record)`` pairs of ToolTalk conversations; see the module docstring."""
    context = ImportContext(owner_id, ensure_utc(imported_at or utcnow()), FORMAT)
    return run_importer(records, _convert, context)


def _when(meta: dict[str, Any], fallback: datetime) -> datetime:
    stamp = meta.get("timestamp")
    if not isinstance(stamp, str) or not stamp:
        return fallback
    try:
        return ensure_utc(datetime.fromisoformat(stamp))
    except ValueError as exc:
        raise RecordShapeError(f"metadata.timestamp: {exc}") from None


def _convert(record: Any, line: int, ctx: ImportContext) -> list[ImportedConversation]:
    rec = require_dict(record, "record")
    meta = require_dict(rec.get("metadata") or {}, "metadata")
    when = _when(meta, ctx.imported_at)
    messages: list[MessageRecord] = []
    for i, item in enumerate(require_list(rec.get("conversation"), "conversation")):
        turn = require_dict(item, f"conversation[{i}]")
        role = turn.get("role")
        text = require_str(turn.get("text"), f"conversation[{i}].text")
        extra = {k: v for k, v in turn.items() if k not in ("role", "text", "apis")}
        index = turn.get("index", i)
        if role == "user":
            messages.append(
                MessageRecord(
                    role="user",
                    content=text,
                    sender=USER_ID,
                    recipient=ASSISTANT_ID,
                    metadata=extra,
                    created_at=when,
                )
            )
            continue
        if role != "assistant":
            raise RecordShapeError(f"conversation[{i}].role must be 'user' or 'assistant', got {role!r}")
        for k, raw in enumerate(
            require_list(turn.get("apis") or [], f"conversation[{i}].apis", non_empty=False)
        ):
            where = f"conversation[{i}].apis[{k}]"
            api = require_dict(raw, where)
            request = require_dict(api.get("request"), f"{where}.request")
            name = require_str(request.get("api_name"), f"{where}.request.api_name", allow_empty=False)
            call_id = f"tooltalk-{index}-{k}"
            call_meta = {**extra, "api_index": k}
            messages.append(
                MessageRecord(
                    role="assistant",
                    content="",
                    sender=ASSISTANT_ID,
                    tool_calls=[function_call(call_id, name, request.get("parameters") or {})],
                    metadata=call_meta,
                    created_at=when,
                )
            )
            exception = api.get("exception")
            result_meta = dict(call_meta)
            if exception is not None:
                result_meta["exception"] = exception
            messages.append(
                MessageRecord(
                    role="tool",
                    content=json_text(api.get("response") if exception is None else {"exception": exception}),
                    tool_call_id=call_id,
                    tool_name=name,
                    metadata=result_meta,
                    created_at=when,
                )
            )
        messages.append(
            MessageRecord(
                role="assistant",
                content=text,
                sender=ASSISTANT_ID,
                recipient=USER_ID,
                metadata=extra,
                created_at=when,
            )
        )
    source_id = source_id_of(rec.get("conversation_id"))
    session_id = f"{FORMAT}:{source_id or content_hash(rec)}"
    user: dict[str, Any] = rec["user"] if isinstance(rec.get("user"), dict) else {}
    conversation = ConversationRecord(
        id=conversation_uuid(ctx.owner_id, session_id),
        owner_id=ctx.owner_id,
        session_id=session_id,
        kind=ConversationKind.AGENT_SESSION,
        name=str(rec.get("name") or short_title(messages[0].content) or session_id),
        user_id=user.get("username") if isinstance(user.get("username"), str) else None,
        topic=short_title(rec["scenario"]) if isinstance(rec.get("scenario"), str) else None,
        participants=chat_participants(),
        metadata={
            "source_format": FORMAT,
            "source_id": source_id,
            **{k: v for k, v in rec.items() if k not in ("conversation", "conversation_id")},
        },
        created_at=when,
    )
    return [finish(conversation, messages, line)]
