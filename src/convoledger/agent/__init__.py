"""The agent runtime behind ``POST /api/agent-sessions/conversation``.

One package, imported one way (no cycle): ``base`` (the ``Agent`` protocol, ``AgentReply``, the
offline ``EchoAgent``) ← ``openai_compatible`` (``OpenAICompatibleAgent``, the real model client,
and its request builders) ← ``registry`` (``AGENT_FACTORIES``, ``agent_from_settings``).
"""

from __future__ import annotations

from convoledger.agent.base import Agent, AgentReply, EchoAgent
from convoledger.agent.openai_compatible import ModelCallError, ModelCallReply, OpenAICompatibleAgent
from convoledger.agent.registry import AGENT_FACTORIES, agent_from_settings

__all__ = [
    "AGENT_FACTORIES",
    "Agent",
    "AgentReply",
    "EchoAgent",
    "ModelCallError",
    "ModelCallReply",
    "OpenAICompatibleAgent",
    "agent_from_settings",
]
