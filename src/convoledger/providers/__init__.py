"""Provider capture: parse any provider response into identifiers + normalised usage, know each
provider's capabilities, and price the call.

- :func:`parse` (``response, provider, api=None, headers=None``) →
  :class:`ProviderResponseMetadata` — one adapter per API family (seed names
  ``extract_all_identifiers``, ``extract_all_metadata``, ``get_provider_capabilities``; see
  :func:`get_adapter`);
- :func:`extract_all_identifiers` (``response, metadata, provider_config``) and
  :func:`extract_from_path` — seed 004's generic identifier plan (:mod:`.identifiers`);
- :func:`load_capabilities`, :func:`get_capabilities`, :func:`get_provider_capabilities`,
  :func:`capabilities_as_dict` — the capability registry (data file ``capabilities.json``, seed
  ``AIPlatform``, whose members read it);
- :func:`price_call` → :class:`PriceResult` (genai-prices, offline) and
  :func:`to_provider_call_record` → ``ProviderCallRecord`` for the ledger.

Field paths and normalisation rules: ``shared/data/provider_responses/FIELDS.md``.
"""

from __future__ import annotations

from convoledger.providers.base import ProviderAdapter
from convoledger.providers.callrecord import to_provider_call_record
from convoledger.providers.capabilities import (
    CapabilityRegistry,
    ProviderCapabilities,
    capabilities_as_dict,
    get_capabilities,
    get_provider_capabilities,
    load_capabilities,
    reload_capabilities,
)
from convoledger.providers.identifiers import (
    GENERIC_IDENTIFIER_KEYS,
    extract_all_identifiers,
    extract_from_path,
)
from convoledger.providers.metadata import IDENTIFIER_KEYS, ProviderResponseMetadata, Usage
from convoledger.providers.pricing import PRICE_SOURCE, PriceResult, price_call
from convoledger.providers.registry import (
    ADAPTERS,
    APIS,
    DEFAULT_API,
    PROVIDERS,
    AIPlatform,
    detect_api,
    get_adapter,
    parse,
)

__all__ = [
    "ADAPTERS",
    "APIS",
    "DEFAULT_API",
    "GENERIC_IDENTIFIER_KEYS",
    "IDENTIFIER_KEYS",
    "PRICE_SOURCE",
    "PROVIDERS",
    "AIPlatform",
    "CapabilityRegistry",
    "PriceResult",
    "ProviderAdapter",
    "ProviderCapabilities",
    "ProviderResponseMetadata",
    "Usage",
    "capabilities_as_dict",
    "detect_api",
    "extract_all_identifiers",
    "extract_from_path",
    "get_adapter",
    "get_capabilities",
    "get_provider_capabilities",
    "load_capabilities",
    "parse",
    "price_call",
    "reload_capabilities",
    "to_provider_call_record",
]
