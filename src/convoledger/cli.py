"""The ``convoledger`` command line (Typer + Rich).

Every command that touches a ledger takes ``--database-url`` (default: the
``CONVOLEDGER_DATABASE_URL`` environment variable, else a SQLite file in the platform's user data
directory). Errors are one clear line on stderr and exit status 1; long work shows a progress bar.

Commands: ``demo`` (``sample`` or ``multichat``), ``quickstart``, ``serve``, ``user create``,
``import``, ``export``, ``stats``, ``sessions list``, ``show``, ``sweep``, ``providers``, ``db upgrade``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from convoledger.errors import LedgerError
from convoledger.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    name="convoledger",
    help="convoledger — the conversation ledger for AI-agent applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Accounts and API tokens.", no_args_is_help=True)
sessions_app = typer.Typer(help="Browse sessions (conversations).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(sessions_app, name="sessions")
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Ledger URL (sqlite:///file.db, postgresql+asyncpg://…, jsonfiles:///dir, memory://). "
        "Default: $CONVOLEDGER_DATABASE_URL, else a SQLite file in the user data directory.",
        show_default=False,
    ),
]


class ExportFormat(StrEnum):
    """Export formats: the JSON document (seed shape + lossless bundle), or the messages as CSV."""

    json = "json"
    csv = "csv"


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def _run(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine, turning the ledger's and bad input's errors into one line + exit 1."""
    try:
        return asyncio.run(coro_factory())
    except (LedgerError, ValueError, OSError) as exc:
        _fail(str(exc) or type(exc).__name__)
        raise AssertionError("unreachable") from exc


def _url(database_url: str | None) -> str:
    return database_url or Settings().resolved_database_url()


async def _with_ledger(database_url: str | None, owner: str, work: Callable[[Any], Awaitable[T]]) -> T:
    from convoledger.backends import open_ledger

    settings = Settings()
    async with open_ledger(
        _url(database_url), owner=owner, policy=settings.policy(), redis_url=settings.redis_url
    ) as ledger:
        return await work(ledger)


# -- demo ---------------------------------------------------------------------------------------
class DemoName(StrEnum):
    """The demos: the bundled real sample, or the multichat persistence seed's demo."""

    sample = "sample"
    multichat = "multichat"


@app.command()
def demo(
    name: Annotated[
        DemoName, typer.Argument(help="sample: real conversations as seed models; multichat: seed 003 demo.")
    ] = DemoName.sample,
    limit: Annotated[int, typer.Option(help="sample: transcripts per format (0 = summary only).")] = 2,
    storage_path: Annotated[
        Path | None,
        typer.Option(
            help="multichat: folder for its JSON and SQLite storage, kept afterwards (default: a "
            "temporary folder, removed). Its cleanup step deletes sessions idle for over 30 days there."
        ),
    ] = None,
    delay: Annotated[float, typer.Option(min=0, help="multichat: seconds between chat messages.")] = 0.0,
) -> None:
    """Run a demo: read the bundled sample of real conversations into the seed models and print
    transcripts (``sample``), or run the multichat persistence seed's demo (``multichat``)."""
    try:
        if name is DemoName.multichat:
            _multichat_demo(storage_path, delay)
        else:
            from convoledger.demo import run_demo

            run_demo(console, per_format=limit)
    except (ValueError, OSError, RuntimeError) as exc:
        _fail(str(exc))


def _multichat_demo(storage_path: Path | None, delay: float) -> None:
    import tempfile

    from convoledger.multichat_demo import run_multichat_demo

    if storage_path is not None:
        run_multichat_demo(typer.echo, storage_path, delay=delay)
        return
    with tempfile.TemporaryDirectory(prefix="convoledger-multichat-") as tmp:
        run_multichat_demo(typer.echo, Path(tmp), delay=delay)


# -- accounts -----------------------------------------------------------------------------------
@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="Account name (created if missing).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create account NAME if missing, issue a new API token for it, print the token alone."""
    from convoledger.api.auth import issue_api_key

    async def work(ledger: Any) -> str:
        return await issue_api_key(ledger.store, name)

    token = _run(lambda: _with_ledger(database_url, name, work))
    sys.stdout.write(token + "\n")


# -- import / export ----------------------------------------------------------------------------
@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="gzip or plain; JSONL, a JSON array or one JSON document.")],
    owner: Annotated[
        str, typer.Option(help="The account that will own the conversations (created if missing).")
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto (detect from the first records) or one of: " + ", ".join(_import_formats()),
        ),
    ] = "auto",
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help="A TOML mapping naming the JSON paths (JMESPath) of id, messages, role, content, time, "
            "tool calls and a role map: for any other shape (README: 'Importing your data').",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import conversations; idempotent (a second import of the same file adds nothing).

    The format is detected unless given (two formats that fit equally are refused: pass
    --format); --format bundle restores convoledger's own export bundles exactly."""
    from convoledger.importers import FORMATS
    from convoledger.importers.mapping import load_mapping
    from convoledger.importing import AUTO, import_file

    if not file.exists():
        _fail(f"no such file: {file}")
    if format != AUTO and format not in FORMATS:
        _fail(f"unknown format {format!r}; use auto or one of: {', '.join(FORMATS)}")
    mapping = None
    if map_file is not None:
        try:
            mapping = load_mapping(map_file)
        except (ValueError, OSError) as exc:
            _fail(str(exc))

    async def work(ledger: Any) -> Any:
        with Progress(
            TextColumn("[bold]importing[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("records"),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        ) as progress:
            task = progress.add_task(file.name, total=None)
            return await import_file(
                ledger, file, format, on_record=lambda n: progress.update(task, completed=n), mapping=mapping
            )

    report = _run(lambda: _with_ledger(database_url, owner, work))
    if report.detected:
        err_console.print(f"format: detected {report.detected}", highlight=False)
    for problem in report.errors[:50]:
        err_console.print(f"[yellow]skipped[/] line {problem.line}: {problem.reason}", highlight=False)
    if len(report.errors) > 50:
        err_console.print(f"[yellow]… and {len(report.errors) - 50} more skipped records[/]")
    if report.reference:
        console.print(
            f"{len(report.reference)} reference record(s), not conversations (nothing stored): "
            f"{report.reference[0]}{' …' if len(report.reference) > 1 else ''}",
            highlight=False,
        )
    console.print(
        f"imported {report.created} conversations ({report.messages} messages) as {report.format}, "
        f"{report.existing} already present, {len(report.errors)} skipped "
        f"in {report.seconds:.1f} s"
    )


def _import_formats() -> list[str]:
    from convoledger.importers import FORMATS

    return list(FORMATS)


@app.command()
def export(
    session: Annotated[str, typer.Argument(help="Session id, external session_id or session_key.")],
    owner: Annotated[str, typer.Option(help="The account that owns it.")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export one session as JSON (the agent-session seed's document with the lossless bundle
    inside, as ``GET …/export`` gives it) or its messages as CSV."""

    async def work(ledger: Any) -> bytes:
        if format is ExportFormat.csv:
            return str(await ledger.export_csv(session)).encode()
        return orjson.dumps(await ledger.export_document(session), option=orjson.OPT_INDENT_2)

    data = _run(lambda: _with_ledger(database_url, owner, work))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        err_console.print(f"wrote {output}")


# -- browsing -----------------------------------------------------------------------------------
@app.command()
def stats(owner: Annotated[str, typer.Option(help="The account.")], database_url: DatabaseUrl = None) -> None:
    """Counts of sessions and messages, per status and per kind."""

    async def work(ledger: Any) -> Any:
        return await ledger.stats()

    result = _run(lambda: _with_ledger(database_url, owner, work))
    table = Table(title=f"convoledger stats — {owner}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("sessions", str(result.conversations))
    table.add_row("active sessions", str(result.active_conversations))
    table.add_row("messages", str(result.messages))
    avg = result.messages / result.conversations if result.conversations else 0.0
    table.add_row("messages per session", f"{avg:.1f}")
    for status, n in sorted(result.by_status.items()):
        table.add_row(f"status {status}", str(n))
    for kind, n in sorted(result.by_kind.items()):
        table.add_row(f"kind {kind}", str(n))
    console.print(table)


@sessions_app.command("list")
def sessions_list(
    owner: Annotated[str, typer.Option(help="The account.")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    search: Annotated[str | None, typer.Option(help="Text in the session name.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The most recently updated sessions."""
    from convoledger.models.status import parse_status
    from convoledger.store.base import ConversationQuery

    query = ConversationQuery(
        status=parse_status(status) if status else None, name_contains=search, limit=limit
    )

    async def work(ledger: Any) -> Any:
        return await ledger.list_conversations(query)

    page = _run(lambda: _with_ledger(database_url, owner, work))
    table = Table(title=f"{page.total} sessions")
    for col in ("id", "session_id", "kind", "status", "messages", "last activity", "name / topic"):
        table.add_column(col, overflow="fold")
    for conv in page.items:
        table.add_row(
            conv.id,
            conv.session_id or "",
            conv.kind.value,
            conv.status.value,
            str(conv.message_count),
            conv.last_activity_at.strftime("%Y-%m-%d %H:%M:%S"),
            conv.name or conv.topic or "",
        )
    console.print(table)


@app.command()
def show(
    session: Annotated[str, typer.Argument(help="Session id, external session_id or session_key.")],
    owner: Annotated[str, typer.Option(help="The account that owns it.")],
    last: Annotated[int | None, typer.Option(help="Only the most recent N messages.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A readable transcript: participants, roles, message types, tool calls."""
    from convoledger.store.base import MessageQuery
    from convoledger.transcripts import render_transcript

    async def work(ledger: Any) -> Any:
        conv = await ledger.resolve(session)
        return conv, await ledger.messages(conv, MessageQuery(last=last))

    conv, messages = _run(lambda: _with_ledger(database_url, owner, work))
    render_transcript(console, conv, messages)


@app.command()
def sweep(
    database_url: DatabaseUrl = None,
    cleanup: Annotated[
        bool, typer.Option(help="Also delete archived sessions past max_session_age.")
    ] = False,
) -> None:
    """Apply the lifecycle policy once: time out idle sessions, archive long-inactive ones."""

    async def work(ledger: Any) -> tuple[int, int]:
        events = await ledger.sweep()
        deleted = await ledger.cleanup() if cleanup else 0
        return len(events), deleted

    moved, deleted = _run(lambda: _with_ledger(database_url, "system", work))
    console.print(f"{moved} lifecycle transitions, {deleted} sessions deleted")


@app.command()
def providers() -> None:
    """The provider capability registry: stateful APIs, identifiers, notes."""
    from convoledger.providers.capabilities import capabilities_as_dict

    data = capabilities_as_dict()
    table = Table(title="provider capabilities")
    for col in ("provider", "api", "stateful", "sdk sessions", "identifiers"):
        table.add_column(col, overflow="fold")
    for entry in data["providers"]:
        for api in entry["apis"]:
            table.add_row(
                entry["provider"],
                api["api"],
                "yes" if api["api_stateful"] else "no",
                "yes" if api["sdk_session_support"] else "no",
                ", ".join(api["supported_identifiers"]),
            )
    console.print(table)


# -- service ------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from convoledger.api.app import create_app

    console.print(f"convoledger serving {_url(database_url)} at http://{host}:{port} (docs: /docs)")
    uvicorn.run(create_app(_url(database_url)), host=host, port=port, log_level="info")


@app.command()
def quickstart(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    owner: Annotated[str, typer.Option(help="Account that owns the sample.")] = "demo",
    database_url: DatabaseUrl = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Import and print the token, then exit.")
    ] = False,
) -> None:
    """The main job: import the bundled real sample into the ledger, issue a token, serve the API."""
    from convoledger.api.auth import issue_api_key
    from convoledger.importing import import_sample

    async def work(ledger: Any) -> tuple[Any, str]:
        with Progress(
            TextColumn("[bold]importing bundled sample[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task("sample", total=None)
            report = await import_sample(ledger, on_record=lambda n: progress.update(task, completed=n))
        token = await issue_api_key(ledger.store, owner)
        return report, token

    report, token = _run(lambda: _with_ledger(database_url, owner, work))
    base = f"http://{host}:{port}"
    console.print(
        f"sample: {report.created} conversations imported ({report.messages} messages), "
        f"{report.existing} already present"
    )
    console.print(f"ledger: {_url(database_url)}")
    console.print(f"token for account [bold]{owner}[/]: {token}", highlight=False, soft_wrap=True)
    console.print(f"web UI: {base}/  (sign in with the token above)", highlight=False, soft_wrap=True)
    console.print(
        f"try:\n  curl -H 'Authorization: Bearer {token}' '{base}/api/agent-sessions?size=5'\n"
        f"  curl -H 'Authorization: Bearer {token}' '{base}/api/stats'",
        highlight=False,
        soft_wrap=True,
    )
    if not no_serve:
        serve(host=host, port=port, database_url=database_url)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the SQL schema to the newest migration (Alembic)."""
    from convoledger.backends import normalize_sql_url
    from convoledger.store.sql import upgrade_database

    url = _url(database_url)
    if not url.startswith(("sqlite", "postgres")):
        _fail(f"db upgrade applies to SQL databases only, not {url!r}")
    _run(lambda: upgrade_database(normalize_sql_url(url)))
    console.print(f"database at {url} is at the newest schema")


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m convoledger``."""
    app()
