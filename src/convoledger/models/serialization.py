"""Plain-JSON serialisation shared by the seed faces: schema versions, migrations, JSON checks.

Every face (``ConversationSession``, ``AgentCommunicationMessage``, ``Conversation``, …) has
``to_dict()`` / ``from_dict()``. ``to_dict`` writes only plain JSON types (str, int, float, bool,
None, lists, dicts with str keys; datetimes as ISO 8601 in UTC) plus ``schema_version``
(``records.SCHEMA_VERSION``, ``"1.1"``). ``from_dict`` first runs :func:`migrate`, which brings a
dict written by an older version up to date:

- the version is ``schema_version``, else the seed's own ``version`` key (the conversation-models
  seed's "Model Version Upgrade" example), else ``"1.0"`` (dicts written before versions existed);
- 1.0 → 1.1 (the seed's example): every participant dict without ``metadata`` gets ``{}``, and a
  participant written in the seed's old ``{"id", "type", "role"}`` form ("Data Format
  Conversion") is renamed to ``participant_id`` / ``participant_type`` / ``participant_role``.

A dict from a *newer* version than this code knows is refused with ``ValueError``: guessing
would lose data silently.

The faces keep face-only details of a stored record (an agent message's sender and recipient
roles, a chat message's external session id) under one reserved metadata key, :data:`FACE_KEY`,
so that converting face → record → face gives back an equal face. Pure functions, no I/O.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from convoledger.models.records import SCHEMA_VERSION
from convoledger.models.timeutil import isoformat

__all__ = [
    "FACE_KEY",
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "JsonDict",
    "IdText",
    "JsonValue",
    "UuidText",
    "check_json_object",
    "check_json_value",
    "dump_datetime",
    "face_extras",
    "migrate",
    "migrate_participant",
    "parse_json_text",
    "require_key",
    "split_face_metadata",
    "with_face_extras",
]

#: Versions ``from_dict`` reads, oldest first; the last one is the version written.
SUPPORTED_SCHEMA_VERSIONS: tuple[str, ...] = ("1.0", SCHEMA_VERSION)

#: Reserved key inside a record's ``metadata`` holding face-only details
#: (``{"face": <face name>, ...}``). Caller metadata must not use it.
FACE_KEY = "_convoledger_face"


def check_json_value(value: Any, where: str = "value") -> Any:
    """Return ``value`` unchanged if it is a plain JSON value, else raise ``ValueError``.

    Plain JSON: ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``list`` of JSON values,
    ``dict`` with ``str`` keys and JSON values. Tuples, sets, datetimes, bytes, NaN/±inf and
    non-string keys are refused, with ``where`` and the path in the message (e.g.
    ``metadata['a'][0]: not a JSON value (datetime)``).
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} is not a JSON number (NaN and infinities are not JSON)")
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json_value(item, f"{where}[{i}]")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} is not a string (JSON object keys are strings)")
            check_json_value(item, f"{where}[{key!r}]")
        return value
    raise ValueError(f"{where}: not a JSON value ({type(value).__name__})")


def check_json_object(value: Any, where: str = "metadata") -> dict[str, Any]:
    """Return ``value`` if it is a ``dict`` with ``str`` keys and JSON values, else ``ValueError``."""
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a JSON object (dict), got {type(value).__name__}")
    check_json_value(value, where)
    return value


def _json_object_validator(value: dict[str, Any]) -> dict[str, Any]:
    return check_json_object(value, "JSON object")


def _json_value_validator(value: Any) -> Any:
    return check_json_value(value, "JSON value")


#: A pydantic field type: a ``dict`` of plain JSON values (``ValueError`` otherwise).
JsonDict = Annotated[dict[str, Any], AfterValidator(_json_object_validator)]
#: A pydantic field type: any plain JSON value (``ValueError`` otherwise).
JsonValue = Annotated[Any, AfterValidator(_json_value_validator)]


def _uuid_text(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a UUID (text or uuid.UUID), got {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"not a UUID: {value!r}") from None


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


#: A pydantic field type: a UUID as canonical lower-case text (``uuid.UUID`` or any form
#: ``uuid.UUID()`` parses accepted; ``ValueError`` otherwise).
UuidText = Annotated[str, BeforeValidator(_uuid_text)]
#: A pydantic field type: an identifier as text (a ``uuid.UUID`` is turned into its text).
IdText = Annotated[str, BeforeValidator(_id_text)]


def parse_json_text(text: str, where: str) -> Any:
    """Parse JSON ``text`` (e.g. the agent-session seed's ``extra_data`` string) or raise ``ValueError``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where} is a string but not valid JSON: {exc.msg} at position {exc.pos}") from None


def dump_datetime(value: datetime) -> str:
    """ISO 8601 text of an aware UTC datetime (``+00:00`` offset), as every ``to_dict`` writes it."""
    return isoformat(value)


def require_key(data: Mapping[str, Any], key: str, what: str) -> Any:
    """``data[key]``, or ``ValueError`` naming the missing key and the face (``what``)."""
    if key not in data:
        raise ValueError(f"{what} dict is missing required key {key!r}")
    return data[key]


def _schema_version(data: Mapping[str, Any]) -> str:
    raw = data.get("schema_version", data.get("version", "1.0"))
    if not isinstance(raw, str):
        raise ValueError(f"schema_version must be a string such as '1.1', got {raw!r}")
    return raw


def _migrate_participant_1_0(p: Any) -> Any:
    if not isinstance(p, dict):
        return p  # plain participant ids (ChatSession) need nothing
    p = dict(p)
    renames = {"id": "participant_id", "type": "participant_type", "role": "participant_role"}
    for old, new in renames.items():
        if new not in p and old in p:
            p[new] = p.pop(old)
    p.setdefault("metadata", {})
    return p


def _migrate_1_0_to_1_1(data: dict[str, Any]) -> dict[str, Any]:
    participants = data.get("participants")
    if isinstance(participants, list):
        data["participants"] = [_migrate_participant_1_0(p) for p in participants]
    return data


_STEPS = {"1.0": ("1.1", _migrate_1_0_to_1_1)}
_PARTICIPANT_STEPS = {"1.0": ("1.1", _migrate_participant_1_0)}


def _run_steps(data: Any, steps: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a dict to load, got {type(data).__name__}")
    version = _schema_version(data)
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ValueError(
            f"unsupported schema_version {version!r}; this convoledger reads "
            f"{', '.join(SUPPORTED_SCHEMA_VERSIONS)}"
        )
    out = dict(data)  # shallow: the steps replace what they change, never mutate the input
    out.pop("version", None)
    while version != SCHEMA_VERSION:
        version, step = steps[version]
        out = step(out)
    out["schema_version"] = SCHEMA_VERSION
    return out


def migrate(data: Any) -> dict[str, Any]:
    """Return a migrated copy of a face's dict at the current ``SCHEMA_VERSION`` (the input is
    not modified).

    ``data`` is a dict written by any supported version (see the module docstring for how the
    version is found). The copy carries ``schema_version`` = ``SCHEMA_VERSION`` and no legacy
    ``version`` key. Raises ``ValueError`` if ``data`` is not a dict or its version is unknown.
    """
    return _run_steps(data, _STEPS)


def migrate_participant(data: Any) -> dict[str, Any]:
    """Like :func:`migrate`, for one participant dict on its own (1.0: add ``metadata``, rename
    the seed's old ``id``/``type``/``role`` keys)."""
    return _run_steps(data, _PARTICIPANT_STEPS)


def with_face_extras(metadata: Mapping[str, Any], face: str, extras: Mapping[str, Any]) -> dict[str, Any]:
    """The record metadata for a face: the caller's ``metadata`` plus ``{FACE_KEY: {"face", **extras}}``.

    Raises ``ValueError`` if the caller's metadata already uses the reserved key :data:`FACE_KEY`.
    """
    if FACE_KEY in metadata:
        raise ValueError(f"metadata key {FACE_KEY!r} is reserved for convoledger")
    out = copy.deepcopy(dict(metadata))
    if extras:
        out[FACE_KEY] = {"face": face, **copy.deepcopy(dict(extras))}
    return out


def split_face_metadata(metadata: Mapping[str, Any], face: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a record's metadata into (the caller's metadata, this face's extras).

    The extras are those written by :func:`with_face_extras` for the same ``face``; a record
    written by another face yields ``{}`` (its extras are dropped, never misread).
    """
    caller = {k: copy.deepcopy(v) for k, v in metadata.items() if k != FACE_KEY}
    return caller, face_extras(metadata, face)


def face_extras(metadata: Mapping[str, Any], face: str) -> dict[str, Any]:
    """The extras a face stored in a record's metadata (``{}`` if none or another face's)."""
    raw = metadata.get(FACE_KEY)
    if isinstance(raw, dict) and raw.get("face") == face:
        return {k: copy.deepcopy(v) for k, v in raw.items() if k != "face"}
    return {}
