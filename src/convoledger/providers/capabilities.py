"""The capability registry (seed: ``AIPlatform`` + ``get_provider_capabilities()``).

Data, not code: ``capabilities.json`` in this package lists, per provider and API,
``api_stateful``, ``server_state_handles`` (the request parameters that reference server-side
history), ``context_strategy`` (``server_state`` or ``token_window``), ``sdk_session_support`` and
``sdk_session_mechanism``, ``supported_identifiers`` (keys of
``ProviderResponseMetadata.identifiers``), ``metadata_fields`` (wire paths), ``streaming_usage``,
``deprecated``, ``token_estimate_ratio`` (multiplier on o200k counts when budgeting a window,
FIELDS.md section 5), ``provider_notes`` (the seed's four-part template: ``architecture``,
``implementation``, ``cost_implications``, ``sdk``) and ``cost_optimization_notes``, and
``identifier_paths``: for each supported identifier that sits at one place in a response body,
its field path (``conversation.id``, ``output[].call_id``, ``header:x-request-id``; syntax of
:func:`convoledger.providers.identifiers.extract_from_path`) — seed 004's "identifier extraction
paths", read as ``caps.get("conversation_id_path")``. Facts come from
``shared/data/provider_responses/FIELDS.md`` (verified on the recorded responses) and the
providers' SDKs and docs named there.

Loading (:func:`load_capabilities`): the packaged file, then a JSON or TOML file deep-merged over
it (``path`` argument, else ``$CONVOLEDGER_CAPABILITIES_FILE``), then an ``overrides`` dict
deep-merged last (dicts merge key by key, every other value replaces). The result is validated;
bad data raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from convoledger.providers.identifiers import extract_from_path

#: Environment variable naming a capabilities file merged over the packaged one.
CAPABILITIES_ENV = "CONVOLEDGER_CAPABILITIES_FILE"
_PACKAGED = "capabilities.json"


class ProviderNotes(BaseModel):
    """The seed's four-part provider note."""

    model_config = ConfigDict(extra="forbid")

    architecture: str
    implementation: str
    cost_implications: str
    sdk: str


class ApiCapabilities(BaseModel):
    """Capabilities of one provider API (one entry of ``capabilities.json``)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str
    api_stateful: bool
    server_state_handles: list[str] = Field(default_factory=list)
    context_strategy: Literal["server_state", "token_window"]
    sdk_session_support: bool
    sdk_session_mechanism: str | None = None
    deprecated: bool = False
    token_estimate_ratio: float = Field(default=1.0, gt=0)
    supported_identifiers: list[str]
    identifier_paths: dict[str, str] = Field(default_factory=dict)
    metadata_fields: list[str]
    streaming_usage: str
    provider_notes: ProviderNotes
    cost_optimization_notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> ApiCapabilities:
        if self.context_strategy == "server_state" and not (self.api_stateful and self.server_state_handles):
            raise ValueError(
                "context_strategy 'server_state' needs api_stateful=true and server_state_handles"
            )
        unknown = sorted(set(self.identifier_paths) - set(self.supported_identifiers))
        if unknown:
            raise ValueError(f"identifier_paths names identifiers not in supported_identifiers: {unknown}")
        for name, path in self.identifier_paths.items():
            try:
                extract_from_path({}, path)  # syntax check only
            except ValueError as exc:
                raise ValueError(f"identifier_paths[{name!r}]: {exc}") from None
        return self

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style read, as seed 004 reads its provider config
        (``provider_config.get(f"{identifier_type}_path", None)``).

        ``"<identifier>_path"`` → that identifier's path in ``identifier_paths`` (``default`` when
        it has none); any other field name → the field's value; anything else → ``default``.
        """
        if key.endswith("_path") and key not in type(self).model_fields:
            return self.identifier_paths.get(key.removesuffix("_path"), default)
        if key in type(self).model_fields:
            return getattr(self, key)
        return default

    def provider_notes_text(self) -> str:
        """``provider_notes`` as the seed's text note (004, "Example Provider Note (OpenAI)")::

            === <display name> ===

            ARCHITECTURE:
            - API-Level: Stateful (...) | Stateless (...)
            - SDK-Level: <session mechanism> | No built-in session management
            - Identifiers: <supported identifiers> | None available
            - <architecture note>

            HOW IT WORKS: / TOKEN COSTS: / SDK: / OPTIMIZATION: (one section each)
        """
        handles = ", ".join(self.server_state_handles)
        api_level = f"Stateful (server-side state: {handles})" if self.api_stateful else "Stateless"
        sdk_level = self.sdk_session_mechanism if self.sdk_session_support else None
        lines = [
            f"=== {self.display_name} ===",
            "",
            "ARCHITECTURE:",
            f"- API-Level: {api_level}",
            f"- SDK-Level: {sdk_level or 'No built-in session management'}",
            f"- Identifiers: {', '.join(self.supported_identifiers) or 'None available'}",
            f"- {self.provider_notes.architecture}",
            "",
            "HOW IT WORKS:",
            f"- {self.provider_notes.implementation}",
            "",
            "TOKEN COSTS:",
            f"- {self.provider_notes.cost_implications}",
            "",
            "SDK:",
            f"- {self.provider_notes.sdk}",
        ]
        if self.cost_optimization_notes:
            lines += ["", "OPTIMIZATION:", self.cost_optimization_text()]
        return "\n".join(lines)

    def cost_optimization_text(self) -> str:
        """``cost_optimization_notes`` as the seed's text field: one ``- note`` line each."""
        return "\n".join(f"- {note}" for note in self.cost_optimization_notes)


class ProviderEntry(BaseModel):
    """A provider: display name, default API, genai-prices provider id and its APIs."""

    model_config = ConfigDict(extra="forbid")

    display_name: str
    default_api: str
    pricing_provider_id: str | None = None
    apis: dict[str, ApiCapabilities]

    @model_validator(mode="after")
    def _check(self) -> ProviderEntry:
        if not self.apis:
            raise ValueError("a provider needs at least one API")
        if self.default_api not in self.apis:
            raise ValueError(f"default_api {self.default_api!r} is not one of its apis {sorted(self.apis)}")
        return self


class ProviderCapabilities(ApiCapabilities):
    """One provider/API entry with its names (what ``get_provider_capabilities()`` returns)."""

    provider: str
    api: str
    provider_display_name: str
    pricing_provider_id: str | None = None


class CapabilityRegistry(BaseModel):
    """All providers' capabilities (validated ``capabilities.json`` plus overrides)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    providers: dict[str, ProviderEntry]

    def get(self, provider: str, api: str | None = None) -> ProviderCapabilities:
        """The entry for ``provider`` and ``api`` (default: the provider's default API).

        Raises ``ValueError`` naming the known providers/APIs when either is unknown.
        """
        entry = self.providers.get(provider)
        if entry is None:
            raise ValueError(f"unknown provider {provider!r}; known: {', '.join(sorted(self.providers))}")
        name = api or entry.default_api
        caps = entry.apis.get(name)
        if caps is None:
            raise ValueError(
                f"provider {provider!r} has no API {name!r}; known: {', '.join(sorted(entry.apis))}"
            )
        return ProviderCapabilities(
            **caps.model_dump(),
            provider=provider,
            api=name,
            provider_display_name=entry.display_name,
            pricing_provider_id=entry.pricing_provider_id,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-able listing for ``GET /api/providers`` and ``convoledger providers``.

        Shape: ``{"version": int, "providers": [{"provider", "display_name", "default_api",
        "pricing_provider_id", "apis": [{"api", …capability fields…}]}]}``, sorted by name.
        """
        providers = []
        for name in sorted(self.providers):
            entry = self.providers[name]
            providers.append(
                {
                    "provider": name,
                    "display_name": entry.display_name,
                    "default_api": entry.default_api,
                    "pricing_provider_id": entry.pricing_provider_id,
                    "apis": [
                        {"api": api, **caps.model_dump(mode="json")} for api, caps in entry.apis.items()
                    ],
                }
            )
        return {"version": self.version, "providers": providers}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``base`` with ``override`` merged in (nested dicts merge, other values replace)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read capabilities file {str(path)!r}: {exc}") from exc
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(
            f"capabilities file {str(path)!r} is not valid {path.suffix or 'JSON'}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ValueError(f"capabilities file {str(path)!r} must hold an object at the top level")
    return data


def packaged_capabilities_data() -> dict[str, Any]:
    """The raw packaged ``capabilities.json`` as a dict."""
    text = resources.files("convoledger.providers").joinpath(_PACKAGED).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_capabilities(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    use_env: bool = True,
) -> CapabilityRegistry:
    """Load the registry: packaged data ← file (``path`` or ``$CONVOLEDGER_CAPABILITIES_FILE``) ← overrides.

    ``path``: a ``.json`` or ``.toml`` file with the same structure (partial: only what changes).
    ``use_env``: read ``$CONVOLEDGER_CAPABILITIES_FILE`` when ``path`` is ``None``.
    ``overrides``: a dict with the same structure, merged last.
    Raises ``ValueError`` for an unreadable/invalid file or data that fails validation.
    """
    data = packaged_capabilities_data()
    file_path = path if path is not None else (os.environ.get(CAPABILITIES_ENV) if use_env else None)
    if file_path:
        data = deep_merge(data, _read_file(Path(file_path)))
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ValueError(f"overrides must be a mapping, got {type(overrides).__name__}")
        data = deep_merge(data, overrides)
    try:
        return CapabilityRegistry.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"invalid capabilities data: {exc}") from exc


@cache
def default_registry() -> CapabilityRegistry:
    """The process-wide registry (packaged data + ``$CONVOLEDGER_CAPABILITIES_FILE``), loaded once.

    Call :func:`reload_capabilities` after changing the environment variable.
    """
    return load_capabilities()


def reload_capabilities() -> CapabilityRegistry:
    """Forget the cached default registry and load it again."""
    default_registry.cache_clear()
    return default_registry()


def get_capabilities(provider: str, api: str | None = None) -> ProviderCapabilities:
    """The default registry's entry for ``provider``/``api`` (``ValueError`` when unknown)."""
    return default_registry().get(provider, api)


def get_provider_capabilities(provider: str, api: str | None = None) -> dict[str, Any]:
    """Seed 004 ``get_provider_capabilities()``: the capability entry of ``provider``/``api`` as a
    JSON-ready dict (the adapters' method of the same name returns their own entry).
    ``ValueError`` when either is unknown."""
    return get_capabilities(provider, api).model_dump(mode="json")


def capabilities_as_dict(registry: CapabilityRegistry | None = None) -> dict[str, Any]:
    """JSON-able registry listing (``GET /api/providers``, ``convoledger providers``); see ``as_dict``."""
    return (registry or default_registry()).as_dict()


__all__ = [
    "CAPABILITIES_ENV",
    "ApiCapabilities",
    "CapabilityRegistry",
    "ProviderCapabilities",
    "ProviderEntry",
    "ProviderNotes",
    "capabilities_as_dict",
    "deep_merge",
    "default_registry",
    "get_capabilities",
    "get_provider_capabilities",
    "load_capabilities",
    "packaged_capabilities_data",
    "reload_capabilities",
]
