"""Settings read from the environment (pydantic-settings), prefix ``CONVOLEDGER_``.

- ``CONVOLEDGER_DATABASE_URL``: where the ledger lives. Default: a SQLite file
  ``ledger.db`` in the platform's user data directory (``platformdirs.user_data_dir``).
- ``CONVOLEDGER_REDIS_URL``: turns the Redis cache on when set.
- ``CONVOLEDGER_DEFAULT_TIMEOUT`` / ``…_MAX_INACTIVE_TIME`` / ``…_CLEANUP_INTERVAL`` /
  ``…_MAX_SESSION_AGE``: lifecycle policy in seconds (seed defaults 3600 / 86400 / 3600 / 604800).
- ``CONVOLEDGER_AGENT``: the agent behind ``POST /api/agent-sessions/conversation``: ``echo``
  (default, offline and deterministic) or ``openai`` (an OpenAI-compatible endpoint, see
  ``CONVOLEDGER_OPENAI_BASE_URL``, ``…_MODEL``, ``…_API_KEY``, ``…_PROVIDER`` (for parsing and
  pricing: openai, openrouter, ollama, groq, deepseek…; default inferred from the base URL),
  ``…_API`` (``chat`` or ``responses``) and ``…_STREAM``).
- ``CONVOLEDGER_STREAM_HEARTBEAT`` / ``CONVOLEDGER_STREAM_POLL``: live event streams, in seconds:
  keep-alive comment after this much silence (default 15), re-read of the event table without a
  wake-up (default 5).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

from convoledger.models.policy import LifecyclePolicy


def default_database_url() -> str:
    """``sqlite:///<user data dir>/convoledger/ledger.db`` (the directory is not created here)."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('convoledger')) / 'ledger.db'}"


class Settings(BaseSettings):
    """Process settings; every field can be set by ``CONVOLEDGER_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="CONVOLEDGER_", extra="ignore")

    database_url: str = ""
    redis_url: str | None = None
    default_timeout: float = 3600
    max_inactive_time: float = 86400
    cleanup_interval: float = 3600
    max_session_age: float = 604800
    agent: str = "echo"
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str | None = None
    openai_provider: str | None = None
    openai_api: Literal["chat", "responses"] = "chat"
    openai_stream: bool = False
    context_budget_tokens: int = 8000
    #: Live event streams (issue 18), seconds: keep-alive after this much silence; re-read the
    #: event table after this long without a wake-up (the floor under a lost notification).
    stream_heartbeat: float = 15.0
    stream_poll: float = 5.0

    def resolved_database_url(self) -> str:
        """``database_url`` if set, else ``default_database_url()``."""
        return self.database_url or default_database_url()

    def policy(self) -> LifecyclePolicy:
        """The lifecycle policy these settings describe."""
        return LifecyclePolicy(
            default_timeout=self.default_timeout,
            max_inactive_time=self.max_inactive_time,
            cleanup_interval=self.cleanup_interval,
            max_session_age=self.max_session_age,
        )
