"""Which adapter parses which provider/API, the per-provider default API, and ``parse``.

Providers (seed: the ``AIPlatform`` registry) and their APIs, the first being the default:

=========== ==========================================================
openai      chat, responses, conversations, assistants
azure       chat, responses, assistants
anthropic   messages
google      generate_content
openrouter  chat, responses
groq        chat, responses
mistral     chat, conversations
bedrock     converse
ollama      native, chat
deepseek    chat, responses
=========== ==========================================================

When ``api`` is not given, :func:`parse` detects it from the body when the shape is unambiguous
(``object: "response"`` → responses, ``object: "conversation"`` → conversations, Assistants
objects and ``thread.*`` events → assistants, Mistral ``conversation.response`` →
conversations, OpenAI-shaped chat completions on Ollama → chat) and otherwise uses the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from convoledger.providers.anthropic import AnthropicMessagesAdapter
from convoledger.providers.base import ProviderAdapter
from convoledger.providers.bedrock import BedrockConverseAdapter
from convoledger.providers.capabilities import ProviderCapabilities, get_capabilities
from convoledger.providers.gemini import GeminiAdapter
from convoledger.providers.metadata import ProviderResponseMetadata
from convoledger.providers.mistral_conversations import MistralConversationsAdapter
from convoledger.providers.ollama import OllamaNativeAdapter
from convoledger.providers.openai_assistants import OpenAIAssistantsAdapter
from convoledger.providers.openai_chat import (
    AzureChatAdapter,
    DeepSeekChatAdapter,
    GroqChatAdapter,
    MistralChatAdapter,
    OllamaCompatChatAdapter,
    OpenAIChatAdapter,
    OpenRouterChatAdapter,
)
from convoledger.providers.openai_responses import CONVERSATION_OBJECTS, OpenAIResponsesAdapter
from convoledger.providers.streams import DecodedResponse, decode_response


class AIPlatform(StrEnum):
    """The providers the ledger understands (seed 004's ``AIPlatform`` model, one member per provider).

    Each member reads the seed's capability fields from the capability registry
    (``capabilities.json``) for the provider's default API (``capabilities(api)`` for another):
    ``provider_notes`` (text, the seed's note template), ``sdk_session_support``,
    ``api_stateful``, ``cost_optimization_notes`` (text, one ``- note`` line each),
    ``supported_identifiers`` and ``metadata_fields`` (lists), and ``get(key, default)`` as on
    ``ProviderCapabilities`` (``AIPlatform.OPENAI.get("response_id_path")`` → ``"id"``). Being a
    ``str``, a member is also accepted wherever a provider name is.
    """

    OPENAI = "openai"
    AZURE = "azure"
    ANTHROPIC = "anthropic"
    GOOGLE = "google"
    OPENROUTER = "openrouter"
    GROQ = "groq"
    MISTRAL = "mistral"
    BEDROCK = "bedrock"
    OLLAMA = "ollama"
    DEEPSEEK = "deepseek"

    def capabilities(self, api: str | None = None) -> ProviderCapabilities:
        """This provider's capability entry for ``api`` (default: its default API); ``ValueError``
        for an API it does not have."""
        return get_capabilities(self.value, api)

    @property
    def provider_notes(self) -> str:
        """Seed ``provider_notes`` (TextField): the default API's note as text."""
        return self.capabilities().provider_notes_text()

    @property
    def sdk_session_support(self) -> bool:
        """Seed ``sdk_session_support``: whether an SDK manages sessions for the default API."""
        return self.capabilities().sdk_session_support

    @property
    def api_stateful(self) -> bool:
        """Seed ``api_stateful``: whether the default API keeps history on the provider's servers."""
        return self.capabilities().api_stateful

    @property
    def cost_optimization_notes(self) -> str:
        """Seed ``cost_optimization_notes`` (TextField): one ``- note`` line per note."""
        return self.capabilities().cost_optimization_text()

    @property
    def supported_identifiers(self) -> list[str]:
        """Seed ``supported_identifiers``: identifier keys the default API's responses carry."""
        return list(self.capabilities().supported_identifiers)

    @property
    def metadata_fields(self) -> list[str]:
        """Seed ``metadata_fields``: the wire paths of every metadata field the default API returns."""
        return list(self.capabilities().metadata_fields)

    def get(self, key: str, default: Any = None) -> Any:
        """``capabilities().get(key, default)``: ``"<identifier>_path"`` or a capability field."""
        return self.capabilities().get(key, default)


PROVIDERS: tuple[str, ...] = tuple(p.value for p in AIPlatform)
APIS: tuple[str, ...] = (
    "chat",
    "responses",
    "conversations",
    "assistants",
    "messages",
    "generate_content",
    "converse",
    "native",
)

#: (provider, api) → adapter class; the first API listed per provider is its default.
ADAPTERS: dict[str, dict[str, type[ProviderAdapter]]] = {
    "openai": {
        "chat": OpenAIChatAdapter,
        "responses": OpenAIResponsesAdapter,
        "conversations": OpenAIResponsesAdapter,
        "assistants": OpenAIAssistantsAdapter,
    },
    "azure": {
        "chat": AzureChatAdapter,
        "responses": OpenAIResponsesAdapter,
        "assistants": OpenAIAssistantsAdapter,
    },
    "anthropic": {"messages": AnthropicMessagesAdapter},
    "google": {"generate_content": GeminiAdapter},
    "openrouter": {"chat": OpenRouterChatAdapter, "responses": OpenAIResponsesAdapter},
    "groq": {"chat": GroqChatAdapter, "responses": OpenAIResponsesAdapter},
    "mistral": {"chat": MistralChatAdapter, "conversations": MistralConversationsAdapter},
    "bedrock": {"converse": BedrockConverseAdapter},
    "ollama": {"native": OllamaNativeAdapter, "chat": OllamaCompatChatAdapter},
    "deepseek": {"chat": DeepSeekChatAdapter, "responses": OpenAIResponsesAdapter},
}
DEFAULT_API: dict[str, str] = {provider: next(iter(apis)) for provider, apis in ADAPTERS.items()}


def _normalise_provider(provider: Any) -> str:
    name = str(provider.value if isinstance(provider, StrEnum) else provider).strip().lower()
    if not isinstance(provider, str) or name not in ADAPTERS:
        raise ValueError(f"unknown provider {provider!r}; valid providers: {', '.join(PROVIDERS)}")
    return name


def get_adapter(provider: str, api: str | None = None) -> ProviderAdapter:
    """The adapter for ``provider`` and ``api`` (``None`` = the provider's default API).

    Raises ``ValueError`` naming the valid providers, or the APIs valid for ``provider``.
    """
    name = _normalise_provider(provider)
    apis = ADAPTERS[name]
    chosen = DEFAULT_API[name] if api is None else str(api).strip().lower()
    if chosen not in apis:
        known = "" if chosen in APIS else f" (known APIs: {', '.join(APIS)})"
        raise ValueError(f"provider {name!r} has no API {api!r}; valid for {name}: {', '.join(apis)}{known}")
    return apis[chosen](name, chosen)


def _first(decoded: DecodedResponse) -> list[Mapping[str, Any]]:
    if decoded.body is not None:
        return [decoded.body]
    return list((decoded.events or [])[:8])


def detect_api(provider: str, decoded: DecodedResponse) -> str:
    """The API a decoded response belongs to for ``provider`` (rules in the module docstring)."""
    name = _normalise_provider(provider)
    apis = ADAPTERS[name]
    for item in _first(decoded):
        obj = str(item.get("object") or "")
        kind = str(item.get("type") or item.get("event") or "")
        data = item.get("data")
        if isinstance(data, list) and data and isinstance(data[0], Mapping):
            obj = obj if obj != "list" else str(data[0].get("object") or "")
        if "responses" in apis and (obj.startswith("response") or kind.startswith("response.")):
            return "responses"
        if obj in CONVERSATION_OBJECTS or obj.startswith("conversation.item"):
            if name == "openai":
                return "conversations"
            if "responses" in apis:
                return "responses"
        if "assistants" in apis and (
            obj == "assistant" or obj.startswith(("thread", "assistant.")) or kind.startswith("thread.")
        ):
            return "assistants"
        if name == "mistral" and (obj == "conversation.response" or kind.startswith("conversation.response")):
            return "conversations"
        if name == "ollama" and (obj.startswith("chat.completion") or "choices" in item):
            return "chat"
    return DEFAULT_API[name]


def parse(
    response: Any,
    provider: str,
    api: str | None = None,
    headers: Any = None,
    *,
    model: str | None = None,
    request: Mapping[str, Any] | None = None,
) -> ProviderResponseMetadata:
    """Parse one provider response into :class:`ProviderResponseMetadata`.

    ``response``: a JSON body (``dict`` or JSON text), an SDK object (anything with
    ``model_dump()``), or a complete stream (SSE text, NDJSON text, a list of event dicts or SDK
    chunks, Bedrock event-stream frames or bytes). ``provider``: one of :data:`PROVIDERS`.
    ``api``: one of :data:`APIS` valid for the provider (``None``: detected, else the provider's
    default). ``headers``: the HTTP response headers (request id, ``openai-processing-ms``).
    ``model``: used when the response names no model (Bedrock). ``request``: the request body,
    used only to estimate usage a response lacks.

    Raises ``ValueError`` for an unknown provider or API (naming the valid ones) and for input
    that cannot be decoded.
    """
    name = _normalise_provider(provider)
    decoded = decode_response(response)
    chosen = detect_api(name, decoded) if api is None else api
    adapter = get_adapter(name, chosen)
    return adapter.extract_all_metadata(decoded, headers, model=model, request=request)


__all__ = ["ADAPTERS", "APIS", "DEFAULT_API", "PROVIDERS", "AIPlatform", "detect_api", "get_adapter", "parse"]
