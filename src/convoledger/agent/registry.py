"""Choosing the agent of ``POST /api/agent-sessions/conversation`` by name (``CONVOLEDGER_AGENT``).

``AGENT_FACTORIES`` maps a name to a factory taking the ``Settings``: ``echo`` (the offline
default, :class:`~convoledger.agent.base.EchoAgent`) and ``openai`` (an OpenAI-compatible endpoint
— OpenAI, OpenRouter, Ollama, vLLM…; ``CONVOLEDGER_OPENAI_*``, see
:func:`~convoledger.agent.openai_compatible.openai_agent_from_settings`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from convoledger.agent.base import Agent, EchoAgent
from convoledger.agent.openai_compatible import openai_agent_from_settings

if TYPE_CHECKING:
    from convoledger.settings import Settings

#: Agent name (``CONVOLEDGER_AGENT``) → factory taking the settings.
AGENT_FACTORIES: dict[str, Callable[[Settings], Agent]] = {
    "echo": lambda _settings: EchoAgent(),
    "openai": openai_agent_from_settings,
}


def agent_from_settings(settings: Settings) -> Agent:
    """The agent ``settings.agent`` names; ``ValueError`` listing the available ones otherwise."""
    factory = AGENT_FACTORIES.get(settings.agent)
    if factory is None:
        raise ValueError(
            f"unknown agent {settings.agent!r} (CONVOLEDGER_AGENT); "
            f"available: {', '.join(sorted(AGENT_FACTORIES))}"
        )
    return factory(settings)
