"""Settings read from the environment (pydantic-settings), prefix ``CONVOLEDGER_``.

Every field of ``Settings`` is one ``CONVOLEDGER_<FIELD>`` variable; its ``description`` is the
documentation: ``python -m convoledger.settings_doc`` writes it to ``docs/configuration.md`` and
to the README's "Configuration" section, and a test fails when those differ from the model. A
new setting therefore needs a ``Field(description=…)`` (units, default, allowed values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from convoledger.models.policy import LifecyclePolicy


def default_database_url() -> str:
    """``sqlite:///<user data dir>/convoledger/ledger.db`` (the directory is not created here)."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('convoledger')) / 'ledger.db'}"


class Settings(BaseSettings):
    """Process settings; every field can be set by ``CONVOLEDGER_<FIELD>`` in the environment
    (see ``docs/configuration.md``)."""

    model_config = SettingsConfigDict(env_prefix="CONVOLEDGER_", extra="ignore")

    database_url: str = Field(
        default="",
        description="Where the ledger lives: `sqlite:///path/ledger.db`, "
        "`postgresql+asyncpg://user@host:5432/db`, `jsonfiles:///path/dir` or `memory://`. Unset: "
        "the SQLite file `ledger.db` in the platform's user data directory "
        "(`platformdirs.user_data_dir('convoledger')`, e.g. `~/.local/share/convoledger` on "
        "Linux). The CLI's `--database-url` overrides it.",
    )
    redis_url: str | None = Field(
        default=None,
        description="A Redis URL (`redis://127.0.0.1:6379/0`) turns on the read cache in front of "
        "the store: conversations, single messages and recent-N windows are served from Redis and "
        "every write invalidates what it changed, so reads are never staler than the store; while "
        "Redis is down the store answers directly. Set it for every process that writes the same "
        "ledger (`serve` and the CLI): a writer without it leaves cached reads stale until they "
        "expire. Unset: no cache.",
    )
    auth_cache_seconds: float = Field(
        default=0.25,
        ge=0,
        description="How long (seconds) a `serve` process reuses an API token's account after "
        "reading it from the store, so that a burst of requests with one token costs one lookup. "
        "A token revoked elsewhere (`convoledger user revoke`, another process) can still "
        "authenticate requests to a process that read it for at most this long. 0: every "
        "request reads the store.",
    )
    default_timeout: float = Field(
        default=3600,
        gt=0,
        description="Seconds without a message after which an active session moves to "
        "`inactive_timeout` when the lifecycle policy is applied (`convoledger sweep`).",
    )
    max_inactive_time: float = Field(
        default=86400,
        gt=0,
        description="Seconds after which an `inactive_*` session still idle is archived by "
        "`convoledger sweep`.",
    )
    cleanup_interval: float = Field(
        default=3600,
        gt=0,
        description="Seconds between two runs of the lifecycle policy by a scheduler (the seed's "
        "sweep interval), e.g. how often to run `convoledger sweep` from cron.",
    )
    max_session_age: float = Field(
        default=604800,
        gt=0,
        description="Seconds after which an archived session still idle is deleted by "
        "`convoledger sweep --cleanup` (kept while it has branches).",
    )
    agent: str = Field(
        default="echo",
        description="The agent that answers `POST /api/agent-sessions/conversation`: `echo` "
        '(offline and deterministic: replies "Echo: " + the latest user message, records no model '
        "call) or `openai` (a real model behind any OpenAI-compatible API, set up by the "
        "`CONVOLEDGER_OPENAI_*` settings; each reply's ids, tokens and cost are recorded).",
    )
    openai_base_url: str | None = Field(
        default=None,
        description="`openai` agent: base URL of the OpenAI-compatible API, e.g. "
        "`https://openrouter.ai/api/v1`, `http://localhost:11434/v1` (Ollama) or a vLLM server. "
        "Unset: the provider's own URL (OpenAI's for `openai`).",
    )
    openai_model: str = Field(
        default="gpt-4o-mini",
        description="`openai` agent: the model name sent with every request.",
    )
    openai_api_key: str | None = Field(
        default=None,
        description="`openai` agent: the API key. Unset: `$OPENAI_API_KEY`; servers that need none "
        "(Ollama, a vLLM `…_BASE_URL`) work without it.",
    )
    openai_provider: str | None = Field(
        default=None,
        description="`openai` agent: which provider answers, for parsing and pricing its responses "
        "(`openai`, `openrouter`, `groq`, `deepseek`, `ollama`, …; `convoledger providers` lists "
        "them). Unset: inferred from the base URL.",
    )
    openai_api: Literal["chat", "responses"] = Field(
        default="chat",
        description="`openai` agent: `chat` (Chat Completions: the history is sent with each "
        "request) or `responses` (the Responses API: the provider keeps the conversation and the "
        "ledger records its `previous_response_id`).",
    )
    openai_stream: bool = Field(
        default=False,
        description="`openai` agent: request a streamed reply (server-sent events); the ledger "
        "stores the assembled text and the usage of the stream.",
    )
    context_budget_tokens: int = Field(
        default=8000,
        description="`openai` agent: tokens for its instructions plus the conversation window it "
        "sends; the oldest messages are left out to fit (tool calls stay with their results).",
    )
    stream_heartbeat: float = Field(
        default=15.0,
        gt=0,
        description="Live event streams (`GET /api/stream`, `GET …/stream`), seconds: a keep-alive "
        "comment is sent after this much silence, so proxies do not close an idle stream.",
    )
    stream_poll: float = Field(
        default=5.0,
        gt=0,
        description="Live event streams, seconds: a stream re-reads the event table after this long "
        "without a wake-up (PostgreSQL LISTEN/NOTIFY, Redis pub/sub or in-process), the floor under "
        "a lost notification.",
    )

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
