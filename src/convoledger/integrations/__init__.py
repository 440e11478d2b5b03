"""Drop-in glue for the agent frameworks users already run, one module per framework:

- ``openai_agents``: ``LedgerSession``, an OpenAI Agents SDK ``Session`` over a ``Ledger`` or a
  convoledger service, and ``LedgerUsageHooks`` (each model call's usage and cost);
- ``langchain``: ``LedgerChatMessageHistory``, a LangChain ``BaseChatMessageHistory``;
- ``a2a``: conversations as A2A (Agent2Agent protocol) message histories and back.

The framework packages are optional extras (``pip install "convoledger[agents]"``,
``"convoledger[langchain]"``); importing a module without its framework raises ``ImportError``
naming the extra to install. ``agents_items`` and ``a2a`` need no framework package.
"""
