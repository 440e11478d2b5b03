"""Every conversation identifier a provider response carries (seed 004, "Enhanced ID Extraction").

Seed 004 ("Comprehensive conversation management", Step 2 and Phase 3.1) gives the plan as code::

    def extract_all_identifiers(self, response, metadata, provider_config):
        # response object attributes, then response dict keys: thread_id, session_id,
        # conversation_id, run_id, assistant_id; then, for each identifier type in
        # provider_config.supported_identifiers, provider_config.get(f'{type}_path') applied
        # to metadata with extract_from_path(metadata, path);
        # "Check response headers (if available)"; "Check nested response objects"

:func:`extract_all_identifiers` runs that plan with the same signature and, in this order:

1. the response object's attributes ``thread_id``, ``session_id``, ``conversation_id``,
   ``run_id``, ``assistant_id`` (SDK objects);
2. the same keys of the response body (a dict, JSON text, or an SDK object's ``model_dump()``);
3. ``metadata``: for each identifier type in ``provider_config.supported_identifiers``, the value
   at ``provider_config.get(f"{type}_path")`` (:func:`extract_from_path`); as in the seed, a value
   found here replaces one found in steps 1–2;
4. the response headers (``headers=`` or the response's own ``headers``): ``thread-id`` /
   ``x-thread-id`` and likewise for the other four keys, and the provider request id
   (:data:`REQUEST_ID_HEADERS`) as ``request_id``;
5. nested response objects, nearest first: the five keys at any depth (``metadata`` objects a
   provider echoes, stream events, Assistants ``data`` objects), an object named by its parent's
   key (``{"conversation": {"id": "conv_1"}}`` → ``conversation_id``), and a typed object's own
   id (``{"object": "thread", "id": …}`` → ``thread_id``; see :data:`TYPED_OBJECTS`);
6. (convoledger) the per-identifier paths of ``provider_config`` applied to the response body
   itself, so a config's paths find what its provider puts in the body.

Steps 4–6 only fill identifiers still missing. **A response's own ``id`` is never taken for a
conversation id**: an ``id`` is read only when the object's ``object`` type or its parent's key
says what it identifies, or when a configured path names it (``response_id`` ← ``id``).
Values are kept as text (numbers become text; objects, booleans and empty values are ignored);
a path that selects a list gives a list of text (e.g. ``tool_call_ids``).

``provider_config`` may be a ``ProviderCapabilities`` (``providers.get_capabilities(...)``), an
``AIPlatform`` member or provider name (its default API), a dict with ``supported_identifiers``
and ``<type>_path`` keys, or ``None`` (then the five keys are read from the top of ``metadata``).
Pure functions; the only I/O is the capability registry's one-time load when a provider name is
given as ``provider_config``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from convoledger.providers.fields import lower_headers
from convoledger.providers.streams import DecodedResponse, decode_response, dump_sdk_object

#: The identifier keys the seed names (004, Step 2), in its order.
GENERIC_IDENTIFIER_KEYS = ("thread_id", "session_id", "conversation_id", "run_id", "assistant_id")

#: A parent key whose object value's ``id`` is that identifier (``conversation: {"id": …}``).
NAMED_OBJECTS: dict[str, str] = {
    "thread": "thread_id",
    "session": "session_id",
    "conversation": "conversation_id",
    "run": "run_id",
    "assistant": "assistant_id",
}

#: An object whose ``object`` field is one of these has its own ``id`` as that identifier
#: (OpenAI Conversations and Assistants objects; OpenAI SDK ``conversations/conversation.py``,
#: ``beta/thread.py``, ``beta/threads/run.py``, ``beta/assistant.py``).
TYPED_OBJECTS: dict[str, str] = {
    "conversation": "conversation_id",
    "conversation.deleted": "conversation_id",
    "thread": "thread_id",
    "thread.deleted": "thread_id",
    "thread.run": "run_id",
    "assistant": "assistant_id",
    "assistant.deleted": "assistant_id",
}

#: Response headers that carry the provider's request id, in priority order (OpenAI/Groq/Azure
#: ``x-request-id``, Anthropic ``request-id``, AWS ``x-amzn-requestid``, Azure APIM
#: ``apim-request-id``, Mistral's gateway ``x-kong-request-id``).
REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amzn-request-id",
    "apim-request-id",
    "x-kong-request-id",
)

#: Header names read for each of the seed's identifier keys (``thread-id``, ``x-thread-id``, …).
IDENTIFIER_HEADERS: dict[str, tuple[str, ...]] = {
    key: (key.replace("_", "-"), "x-" + key.replace("_", "-")) for key in GENERIC_IDENTIFIER_KEYS
}

#: Nested objects deeper than this, or beyond this many visited nodes, are not searched (bounds
#: the work on a large body; identifiers sit near the top of every recorded response).
MAX_DEPTH = 8
MAX_NODES = 20_000

_SEGMENT = re.compile(r"^(?P<name>[^\[\]]*)(?P<index>(?:\[-?\d*\])*)$")
_INDEX = re.compile(r"\[(-?\d*)\]")
_HEADER_PREFIX = "header:"
#: Responses that are data, not objects with attributes or headers of their own.
_PLAIN = (Mapping, str, bytes, bytearray, list, tuple, DecodedResponse)

IdentifierValue = str | list[str]


# -- paths ------------------------------------------------------------------------------------
def _step(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    if value is None or isinstance(value, str | bytes | int | float | list | tuple):
        return None
    return getattr(value, name, None)  # an SDK object's attribute


def _headers_of(data: Any) -> dict[str, str]:
    raw = data.get("headers") if isinstance(data, Mapping) else getattr(data, "headers", None)
    if raw is None:
        return {}
    return lower_headers(raw)


def extract_from_path(data: Any, path: str) -> Any:
    """The value at ``path`` inside ``data`` (seed 004 ``extract_from_path(metadata, path)``), or
    ``None`` when any step is missing.

    Path syntax (the one of ``metadata_fields`` in ``providers/capabilities.json`` and
    ``shared/data/provider_responses/FIELDS.md``): dot-separated keys (``conversation.id``);
    ``[N]`` picks item N of a list (``choices[0].message``; negative counts from the end);
    ``[]`` takes every item and the result is a list with the missing values left out
    (``choices[].message.tool_calls[].id``; ``None`` when nothing is left);
    ``header:<name>`` reads the header ``<name>`` (any case) from ``data["headers"]`` (or
    ``data.headers``). Keys are looked up in mappings and as attributes of other objects (SDK
    objects). Raises ``ValueError`` for a malformed path (an empty key, a non-numeric index).
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"a field path is non-empty text, got {path!r}")
    if path.startswith(_HEADER_PREFIX):
        name = path[len(_HEADER_PREFIX) :].strip().lower()
        if not name:
            raise ValueError(f"field path {path!r} names no header")
        return _headers_of(data).get(name)
    steps: list[tuple[str, list[str]]] = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None or (not match["name"] and not match["index"]):
            raise ValueError(f"malformed field path {path!r} (segment {segment!r})")
        steps.append((match["name"], _INDEX.findall(match["index"])))
    values: list[Any] = [data]
    fanned = False
    for name, indexes in steps:
        if name:
            values = [_step(v, name) for v in values]
        for index in indexes:
            items: list[Any] = []
            for v in values:
                if not isinstance(v, list | tuple):
                    continue
                if index == "":
                    items.extend(v)
                    fanned = True
                elif -len(v) <= int(index) < len(v):
                    items.append(v[int(index)])
            values = items
        values = [v for v in values if v is not None]
        if not values:
            return None
    if fanned:
        return values
    return values[0] if values else None


# -- values -----------------------------------------------------------------------------------
def identifier_value(value: Any) -> IdentifierValue | None:
    """``value`` as an identifier: non-empty text, a number as text, or a list of those (order
    kept, duplicates dropped); ``None`` for anything else (objects, booleans, empty values)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        items: list[str] = []
        for item in value:
            text = identifier_value(item)
            if isinstance(text, str) and text not in items:
                items.append(text)
        return items or None
    return None


def _fill(found: dict[str, IdentifierValue], key: str, value: Any, *, replace: bool = False) -> None:
    text = identifier_value(value)
    if text is not None and (replace or key not in found):
        found[key] = text


# -- the response -----------------------------------------------------------------------------
def response_parts(response: Any, headers: Any = None) -> tuple[DecodedResponse | None, dict[str, str]]:
    """Split ``response`` into its decoded body or stream events and its headers (lower-case).

    ``response`` may be a dict, JSON or stream text/bytes, a list of stream events, an SDK object
    (``model_dump()``), an HTTP response object (``.text`` and ``.headers``, e.g. ``httpx``), a
    ``DecodedResponse``, or any other object (then only its attributes can be read: no body).
    ``headers`` (a mapping or pairs) wins over the response's own. ``ValueError`` for text or
    bytes that are neither JSON nor a stream.
    """
    own_headers = None
    if not isinstance(response, _PLAIN):
        candidate = getattr(response, "headers", None)
        if isinstance(candidate, Mapping):
            own_headers = candidate
    hdrs = lower_headers(headers if headers is not None else own_headers)
    if isinstance(response, DecodedResponse):
        return response, hdrs
    if isinstance(response, Mapping) and not response:
        return None, hdrs  # an empty body carries nothing
    if isinstance(response, Mapping | str | bytes | bytearray | list | tuple):
        return decode_response(response if not isinstance(response, Mapping) else dict(response)), hdrs
    if callable(getattr(response, "model_dump", None)):
        return decode_response(response), hdrs
    text = getattr(response, "text", None)
    if own_headers is not None and isinstance(text, str):  # an HTTP response object
        return decode_response(text), hdrs
    return None, hdrs


def _nodes(decoded: DecodedResponse | None) -> list[Any]:
    if decoded is None:
        return []
    if decoded.body is not None:
        return [decoded.body]
    return [dump_sdk_object(e) for e in decoded.events or []]


def nested_identifiers(
    decoded: DecodedResponse | None, headers: Mapping[str, str]
) -> dict[str, IdentifierValue]:
    """Steps 4 and 5 of the plan: identifiers in the headers, then in nested objects (nearest
    first; see the module docstring). ``headers`` must have lower-case names."""
    found: dict[str, IdentifierValue] = {}
    for key, names in IDENTIFIER_HEADERS.items():
        for name in names:
            _fill(found, key, headers.get(name))
    for name in REQUEST_ID_HEADERS:
        _fill(found, "request_id", headers.get(name))
    queue: deque[tuple[Any, int]] = deque((node, 0) for node in _nodes(decoded))
    visited = 0
    while queue and visited < MAX_NODES:
        node, depth = queue.popleft()
        visited += 1
        if isinstance(node, list | tuple):
            queue.extend((item, depth + 1) for item in node if isinstance(item, Mapping | list | tuple))
            continue
        if not isinstance(node, Mapping):
            continue
        kind = node.get("object")
        if isinstance(kind, str) and kind in TYPED_OBJECTS:
            _fill(found, TYPED_OBJECTS[kind], node.get("id"))
        for key in GENERIC_IDENTIFIER_KEYS:
            _fill(found, key, node.get(key))
        for key, value in node.items():
            if key in NAMED_OBJECTS and isinstance(value, Mapping):
                _fill(found, NAMED_OBJECTS[key], value.get("id"))
            if depth < MAX_DEPTH and isinstance(value, Mapping | list | tuple):
                queue.append((value, depth + 1))
    return found


# -- provider configuration -------------------------------------------------------------------
def _config(provider_config: Any) -> tuple[list[str], Callable[[str, Any], Any]] | None:
    if provider_config is None:
        return None
    if isinstance(provider_config, str):  # a provider name or an AIPlatform member
        from convoledger.providers.capabilities import get_capabilities

        provider_config = get_capabilities(str(provider_config))
    getter: Any
    if isinstance(provider_config, Mapping):
        supported, getter = provider_config.get("supported_identifiers"), provider_config.get
    else:
        supported = getattr(provider_config, "supported_identifiers", None)
        getter = getattr(provider_config, "get", None)
        if supported is None or not callable(getter):
            raise ValueError(
                "provider_config needs supported_identifiers and get(): pass a ProviderCapabilities "
                "(providers.get_capabilities(...)), a provider name or a dict, not "
                + type(provider_config).__name__
            )
    if supported is None:
        supported = []
    if not isinstance(supported, Iterable) or isinstance(supported, str | bytes):
        raise ValueError(f"provider_config.supported_identifiers must be a list of names, got {supported!r}")
    names = list(supported)
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"provider_config.supported_identifiers must hold names, got {names!r}")
    return names, getter


def _paths(provider_config: Any) -> dict[str, str]:
    """``{identifier type: path}`` from a provider config; without one, the five seed keys at the
    top of the metadata."""
    config = _config(provider_config)
    if config is None:
        return {key: key for key in GENERIC_IDENTIFIER_KEYS}
    names, getter = config
    paths: dict[str, str] = {}
    for name in names:
        path = getter(f"{name}_path", None)
        if path is None or path == "":
            continue
        if not isinstance(path, str):
            raise ValueError(f"provider_config path for {name!r} must be text, got {path!r}")
        paths[name] = path
    return paths


def _at(data: Any, path: str, headers: Mapping[str, str]) -> Any:
    if path.startswith(_HEADER_PREFIX):
        return headers.get(path[len(_HEADER_PREFIX) :].strip().lower())
    return extract_from_path(data, path)


# -- the seed's function ----------------------------------------------------------------------
def extract_all_identifiers(
    response: Any, metadata: Any = None, provider_config: Any = None, *, headers: Any = None
) -> dict[str, IdentifierValue]:
    """Every identifier in ``response`` and ``metadata`` (seed 004's signature and plan; the six
    steps and their precedence are in the module docstring).

    ``response``: an SDK object, a dict, JSON or stream text/bytes, a list of stream events or an
    HTTP response object. ``metadata``: whatever the caller holds beside the response (a dict or
    object; e.g. ``{"headers": {...}, "thread": {"id": ...}}``), read through the configured
    paths. ``provider_config``: see the module docstring. ``headers``: the HTTP response headers
    when the response does not carry them.

    Returns ``{identifier type: text or list of text}``. Raises ``ValueError`` for undecodable
    text, a malformed path or a ``provider_config`` without ``supported_identifiers`` / ``get``.
    """
    found: dict[str, IdentifierValue] = {}
    if not isinstance(response, _PLAIN):
        for attr in GENERIC_IDENTIFIER_KEYS:  # 1. object attributes
            _fill(found, attr, getattr(response, attr, None), replace=True)
    decoded, hdrs = response_parts(response, headers)
    body = decoded.body if decoded is not None else None
    if body is not None:  # 2. body keys
        for key in GENERIC_IDENTIFIER_KEYS:
            _fill(found, key, body.get(key), replace=True)
    paths = _paths(provider_config)
    if metadata:  # 3. metadata through the configured paths (the seed replaces)
        for name, path in paths.items():
            _fill(found, name, extract_from_path(metadata, path), replace=True)
    for key, value in nested_identifiers(decoded, hdrs).items():  # 4. headers, 5. nested
        found.setdefault(key, value)
    if provider_config is not None:  # 6. the configured paths on the body and the headers
        for name, path in paths.items():
            if body is not None or path.startswith(_HEADER_PREFIX):
                _fill(found, name, _at(body, path, hdrs))
    return found


__all__ = [
    "GENERIC_IDENTIFIER_KEYS",
    "IDENTIFIER_HEADERS",
    "MAX_DEPTH",
    "MAX_NODES",
    "NAMED_OBJECTS",
    "REQUEST_ID_HEADERS",
    "TYPED_OBJECTS",
    "IdentifierValue",
    "extract_all_identifiers",
    "extract_from_path",
    "identifier_value",
    "nested_identifiers",
    "response_parts",
]
