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

from convoledger.models.maintenance import CleanupAction, MaintenancePolicy
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
        description="Seconds without activity after which an `active` session moves to "
        "`inactive_timeout` (seed `SESSION_SETTINGS`; applied by every maintenance pass and by "
        "`convoledger sweep`).",
    )
    max_inactive_time: float = Field(
        default=86400,
        gt=0,
        description="Seconds: a session that is not `active` and has been idle this long is "
        "cleaned by the maintenance pass (seed `cleanup_inactive_sessions`): backed up, deleted and "
        "recorded, or archived when `CONVOLEDGER_CLEANUP_ACTION=archive`.",
    )
    cleanup_interval: float = Field(
        default=3600,
        gt=0,
        description="Seconds between two maintenance passes of `convoledger serve` (seed "
        "`SessionMaintenanceScheduler`): timeouts, cleanup, backups, backup retention, alerts.",
    )
    max_session_age: float = Field(
        default=604800,
        gt=0,
        description="Seconds: a session created this long ago is cleaned by the maintenance pass "
        "whatever its status (seed `cleanup_old_sessions`): backed up, deleted and recorded, or "
        "archived when `CONVOLEDGER_CLEANUP_ACTION=archive`. Sessions with fork branches are kept.",
    )
    cleanup_action: CleanupAction = Field(
        default=CleanupAction.DELETE,
        description="What the two cleanup policies do: `delete` (the seed; the session's bundle is "
        "written to the backup store first and the deletion recorded) or `archive` (the session is "
        "kept with status `archived`).",
    )
    maintenance: bool = Field(
        default=True,
        description="Run the maintenance scheduler inside `convoledger serve` / `quickstart` "
        "(`--no-maintenance` turns it off for one run). Several servers on one database run each "
        "pass once (a lease in the database).",
    )
    maintenance_retry_delay: float = Field(
        default=60,
        gt=0,
        description="Seconds before a failed maintenance pass is retried (seed: 60).",
    )
    maintenance_batch_size: int = Field(
        default=500,
        ge=1,
        le=10000,
        description="Sessions a maintenance pass reads per query; passes work through everything "
        "due in batches of this size, so memory stays bounded.",
    )
    backup_dir: str | None = Field(
        default=None,
        description="Directory of the backup store (one JSON file per session backup, per "
        "account), or an fsspec URL such as `s3://bucket/backups` (with `s3fs` installed). Unset: "
        "`backups/` next to a SQLite ledger file, `_backups/` inside a JSON-files ledger, otherwise "
        "`backups/` in the user data directory.",
    )
    backup_interval: float = Field(
        default=86400,
        gt=0,
        description="Seconds between two backups of every active session by the maintenance pass "
        "(seed `AutomatedBackupManager`: daily).",
    )
    backup_retention_days: float = Field(
        default=30,
        gt=0,
        description="Days a backup is kept; older backups are removed by the maintenance pass "
        "(seed: 30).",
    )
    high_message_rate_threshold: int = Field(
        default=100,
        ge=1,
        description="Alert `high_message_rate`: raised for an active session with new activity "
        "that holds more than this many messages (seed `check_session_alerts`: 100).",
    )
    long_inactive_threshold: float = Field(
        default=7200,
        gt=0,
        description="Alert `long_inactive_session`: raised once when an active session has been "
        "idle longer than this many seconds (seed: 2 hours). Only fires when it is below "
        "`CONVOLEDGER_DEFAULT_TIMEOUT` (an idle session times out first otherwise).",
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

    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="`serve`, bytes: the largest request body accepted (default 16 MiB); a larger "
        "one is answered 413 problem+json, from its `Content-Length` before reading or while it "
        "streams in. Raise it for imports of very long sessions.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        description="`serve`, seconds: how long the server waits for the next part of a request "
        "body; a client that stalls longer is answered 408 problem+json and disconnected.",
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="`serve`, seconds: a connection must send a request's complete headers within "
        "this long after it opens (or after its previous response); otherwise it is closed.",
    )
    keep_alive_timeout: float = Field(
        default=5.0,
        gt=0,
        description="`serve`, seconds: an idle keep-alive connection is closed after this long "
        "without a new request (uvicorn `timeout_keep_alive`).",
    )
    max_concurrency: int = Field(
        default=1000,
        gt=0,
        description="`serve`: the most connections and requests in progress at once; beyond it new "
        "requests are answered 503 (uvicorn `limit_concurrency`).",
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

    def maintenance_policy(self) -> MaintenancePolicy:
        """The maintenance policy these settings describe (``models.maintenance``)."""
        return MaintenancePolicy(
            default_timeout=self.default_timeout,
            max_inactive_time=self.max_inactive_time,
            cleanup_interval=self.cleanup_interval,
            max_session_age=self.max_session_age,
            cleanup_action=self.cleanup_action,
            backup_interval=self.backup_interval,
            backup_retention_days=self.backup_retention_days,
            high_message_rate_threshold=self.high_message_rate_threshold,
            long_inactive_threshold=self.long_inactive_threshold,
            retry_delay=self.maintenance_retry_delay,
            batch_size=self.maintenance_batch_size,
        )
