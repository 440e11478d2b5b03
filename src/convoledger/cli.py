"""The ``convoledger`` command line (Typer + Rich).

Every command that touches a ledger takes ``--database-url`` (default: the
``CONVOLEDGER_DATABASE_URL`` environment variable, else a SQLite file in the platform's user data
directory). Commands that only read or change what exists (``stats``, ``show``, ``sessions
list``, ``export``, ``sweep``, ``user tokens``, ``user revoke``) refuse a URL where no ledger
exists instead of creating an empty one (``backends.check_ledger_exists``); ``import``, ``user
create``, ``quickstart``, ``serve`` and ``db upgrade`` create it.

Errors: one error boundary (``CliGroup.main``) turns every usage error, every convoledger error
(``LedgerError``), ``ValueError``, ``OSError`` and database-driver error into one line
``error: …`` on stderr and exit status 1 — never a traceback (issue 16 item 8). ``import`` has
its own exit statuses (see its ``--help``). Long work shows a progress bar against a known total.

Start-up stays cheap: heavy modules (importers, settings, Rich tables and progress bars,
uvicorn) are imported inside the commands that use them.

Commands: ``demo`` (``sample`` or ``multichat``), ``quickstart``, ``serve``, ``user create`` /
``tokens`` / ``revoke``, ``import``, ``export``, ``stats``, ``sessions list``, ``show``,
``sweep``, ``maintenance run`` / ``deletions`` / ``passes``, ``backup run`` / ``list`` /
``restore``, ``providers``, ``db upgrade``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

from convoledger.import_formats import AUTO, FORMAT_NAMES
from convoledger.models.maintenance import CleanupAction
from convoledger.models.status import ConversationStatus

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

#: Exit status of every error (issue 16 item 8), and of ``import`` when nothing was imported.
EXIT_ERROR = 1
#: Exit status of ``import`` when some records were skipped and the rest imported.
EXIT_SKIPPED = 2


# -- the error boundary and help rendering ------------------------------------------------------
def _flag_placeholders_off(params: list[Any]) -> list[Any]:
    """Flags take no value: show none for them in ``--help`` (Typer prints ``<bool>``)."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class CliCommand(TyperCommand):
    """A command whose ``--help`` shows no value placeholder for flags."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters (see the class docstring)."""
        return _flag_placeholders_off(super().get_params(ctx))


class CliGroup(TyperGroup):
    """A command group: flags without placeholders in ``--help`` and, at the top, the error
    boundary (``main``)."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The group's parameters (see the class docstring)."""
        return _flag_placeholders_off(super().get_params(ctx))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the CLI; in standalone mode (the console script, ``CliRunner``) every usage
        error and every known error (``_is_user_error``) becomes ``error: <one line>`` on
        stderr and exit status 1. Other exceptions are bugs and keep their traceback."""
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, False, windows_expand_args=windows_expand_args, **extra
            )
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args=windows_expand_args, **extra
            )
        except NoArgsIsHelpError as exc:  # the help was printed: keep Click's status for it
            sys.exit(exc.exit_code)
        except ClickException as exc:
            _print_error(exc.format_message())
            sys.exit(EXIT_ERROR)
        except typer.Abort:
            _print_error("aborted")
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if not _is_user_error(exc):
                raise
            _print_error(_describe(exc))
            sys.exit(EXIT_ERROR)
        sys.exit(result if isinstance(result, int) else 0)


def _known_error_types() -> tuple[type[BaseException], ...]:
    """The exception types that are the user's input or environment, not a bug: convoledger's
    own errors, ``ValueError`` (bad input, incl. pydantic's ``ValidationError``), ``OSError``
    (files, sockets, timeouts) and the database drivers' and Redis' errors. A driver module not
    yet imported cannot have raised, so it is not imported here."""
    from convoledger.errors import LedgerError

    types: list[type[BaseException]] = [LedgerError, ValueError, OSError]
    if "sqlite3" in sys.modules:
        types.append(sys.modules["sqlite3"].Error)
    if "asyncpg" in sys.modules:
        asyncpg = sys.modules["asyncpg"]
        types += [asyncpg.PostgresError, asyncpg.InterfaceError]
    if "sqlalchemy.exc" in sys.modules:
        types.append(sys.modules["sqlalchemy.exc"].SQLAlchemyError)
    if "redis.exceptions" in sys.modules:
        types.append(sys.modules["redis.exceptions"].RedisError)
    return tuple(types)


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, _known_error_types())


def _describe(exc: BaseException) -> str:
    """One line for ``exc``: its message (the driver's class name first for driver errors)."""
    from convoledger.errors import LedgerError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, LedgerError | ValueError | OSError):
        return text
    return f"{type(exc).__name__}: {text}"


def _stdout() -> Console:
    from rich.console import Console

    return Console()


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _print_error(message: str) -> None:
    """``error: message`` as one line on stderr (never wrapped, never read as Rich markup)."""
    from rich.text import Text

    line = Text("error: ", style="bold red")
    line.append(" ".join(message.split()))
    _stderr().print(line, soft_wrap=True)


def _fail(message: str) -> NoReturn:
    """Print ``error: message`` (one line) and exit with status 1."""
    _print_error(message)
    raise typer.Exit(EXIT_ERROR)


class CliTyper(typer.Typer):
    """``typer.Typer`` whose commands are ``CliCommand`` unless they name another class, and whose
    help texts are Markdown (paragraphs re-flowed to the terminal, ``code`` rendered)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rich_markup_mode", "markdown")
        super().__init__(**kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """See ``typer.Typer.command``."""
        return super().command(name, cls=cls or CliCommand, **kwargs)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("convoledger")
        except PackageNotFoundError:  # running from a source tree that is not installed
            from convoledger import __version__ as number
        typer.echo(f"convoledger {number}")
        raise typer.Exit()


app = CliTyper(
    name="convoledger",
    help="convoledger — the conversation ledger for AI-agent applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=CliGroup,
)
user_app = CliTyper(help="Accounts and API tokens.", no_args_is_help=True, cls=CliGroup)
sessions_app = CliTyper(help="Browse sessions (conversations).", no_args_is_help=True, cls=CliGroup)
db_app = CliTyper(help="Database schema.", no_args_is_help=True, cls=CliGroup)
app.add_typer(user_app, name="user")
app.add_typer(sessions_app, name="sessions")
app.add_typer(db_app, name="db")
maintenance_app = CliTyper(
    help="Lifecycle maintenance: timeouts, cleanup policies, backups, alerts.",
    no_args_is_help=True,
    cls=CliGroup,
)
backup_app = CliTyper(help="Session backups (the backup store).", no_args_is_help=True, cls=CliGroup)
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(backup_app, name="backup")


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """convoledger — the conversation ledger for AI-agent applications."""


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


#: ``--format`` of ``import``: ``auto`` or a format name (``import_formats``; no importer loads).
ImportFormat = StrEnum("ImportFormat", [(name, name) for name in (AUTO, *FORMAT_NAMES)])  # type: ignore[misc]


def _run(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion (its errors reach the error boundary)."""
    return asyncio.run(coro_factory())


def _url(database_url: str | None) -> str:
    from convoledger.settings import Settings

    return database_url or Settings().resolved_database_url()


async def _with_ledger(
    database_url: str | None,
    owner: str,
    work: Callable[[Any], Awaitable[T]],
    *,
    create: bool = False,
) -> T:
    """Open the ledger at ``database_url`` for ``owner`` and run ``work(ledger)``. Without
    ``create`` the ledger must exist already (``NotFound`` naming the URL otherwise)."""
    from convoledger.backends import check_ledger_exists, display_url, open_ledger
    from convoledger.errors import NotFound
    from convoledger.settings import Settings

    settings = Settings()
    url = database_url or settings.resolved_database_url()
    try:
        if not create:  # before open_ledger, which creates a SQLite file's directory
            await check_ledger_exists(url)
        ledger = open_ledger(url, owner=owner, policy=settings.policy(), redis_url=settings.redis_url)
    except NotFound as exc:
        raise NotFound(
            f"{exc}. Check --database-url (or CONVOLEDGER_DATABASE_URL); `convoledger import`, "
            "`quickstart` or `db upgrade` create a ledger"
        ) from None
    except OSError as exc:  # the database server does not answer
        raise OSError(f"cannot open the ledger at {display_url(url)}: {exc}") from exc
    try:
        # no tokenizer warm-up: most commands append nothing, and those that do load it when
        # they first count (a command pays ~0.3 s either way, `user create` would for nothing)
        await ledger.open(warm_up=False)
    except OSError as exc:  # the database server does not answer, a directory is not writable
        await ledger.close()
        raise OSError(f"cannot open the ledger at {display_url(url)}: {exc}") from exc
    try:
        return await work(ledger)
    finally:
        await ledger.close()


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

            run_demo(_stdout(), per_format=limit)
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
    label: Annotated[
        str | None, typer.Option(help="A note kept with the token (listed by `user tokens`).")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create account NAME if missing, issue a new API token for it, print the token alone.

    Only the token's SHA-256 is stored: this is the one time it is shown. `convoledger user
    tokens NAME` lists an account's tokens by id; `convoledger user revoke ID` revokes one."""
    from convoledger.api.auth import issue_api_key

    async def work(ledger: Any) -> str:
        return await issue_api_key(ledger.store, name, label)

    token = _run(lambda: _with_ledger(database_url, name, work, create=True))
    sys.stdout.write(token + "\n")


@user_app.command("tokens")
def user_tokens(
    name: Annotated[str, typer.Argument(help="Account name.")],
    database_url: DatabaseUrl = None,
) -> None:
    """List the API tokens of account NAME: id, label and when each was issued (UTC).

    Tokens are stored hashed, so a token cannot be shown again; its id (the first 12 hex digits
    of its SHA-256) names it for `convoledger user revoke ID`."""
    from rich.table import Table

    async def work(ledger: Any) -> Any:
        return await ledger.store.list_api_keys(name)

    keys = _run(lambda: _with_ledger(database_url, name, work))
    if not keys:
        _stdout().print(f"account {name!r} has no API tokens", highlight=False)
        return
    table = Table(title=f"{len(keys)} API token(s) of {name}")
    table.add_column("id", no_wrap=True)
    table.add_column("label")
    table.add_column("created (UTC)", no_wrap=True)
    for key in keys:
        created = key.created_at.strftime("%Y-%m-%d %H:%M:%S") if key.created_at else "unknown"
        table.add_row(key.key_id, key.label or "", created)
    _stdout().print(table)


@user_app.command("revoke")
def user_revoke(
    token_or_id: Annotated[
        str,
        typer.Argument(
            metavar="TOKEN-OR-ID",
            help="The token itself (clg_…), or its id from `user tokens` (at least 8 hex digits).",
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke one API token: it stops authenticating at once."""
    from convoledger.api.auth import TOKEN_PREFIX, hash_token
    from convoledger.errors import NotFound
    from convoledger.store.base import KEY_ID_LENGTH

    if token_or_id.startswith(TOKEN_PREFIX):
        prefix, shown = hash_token(token_or_id), "the given token"
    else:
        prefix, shown = token_or_id.strip().lower(), f"id {token_or_id!r}"
        if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
            _fail(
                f"{token_or_id!r} is neither a token (clg_…) nor a token id "
                f"({KEY_ID_LENGTH} hex digits, as `convoledger user tokens NAME` lists them; at least 8)"
            )

    async def work(ledger: Any) -> Any:
        keys = await ledger.store.list_api_keys(key_hash_prefix=prefix)
        if not keys:
            raise NotFound(f"no API token matches {shown}")
        if len(keys) > 1:
            raise ValueError(f"{shown} matches {len(keys)} tokens; give more digits of the id")
        return await ledger.store.delete_api_key(keys[0].key_hash)

    key = _run(lambda: _with_ledger(database_url, "system", work))
    label = f" ({key.label})" if key.label else ""
    _stdout().print(f"revoked token {key.key_id}{label} of account {key.account}", highlight=False)


# -- import / export ----------------------------------------------------------------------------
@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="gzip or plain; JSONL, a JSON array or one JSON document.")],
    owner: Annotated[
        str, typer.Option(help="The account that will own the conversations (created if missing).")
    ],
    format: Annotated[
        ImportFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help=f"{AUTO} (detect it from the first records) or one of: {', '.join(FORMAT_NAMES)}.",
        ),
    ] = ImportFormat(AUTO),
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
    --format); --format bundle restores convoledger's own export bundles exactly.

    Exit status: 0 = every record imported (or already present); 2 = some records were skipped
    (each is listed on stderr with its line) and the rest imported; 1 = nothing was imported
    (no record held a conversation), the file broke part-way (the conversations committed
    before the break are counted; importing the file again adds the rest), or another error."""
    if not file.is_file():
        _fail(f"no such file: {file}" if not file.exists() else f"not a file: {file}")
    mapping = None
    if map_file is not None:
        from convoledger.importers.mapping import load_mapping

        mapping = load_mapping(map_file)
    from convoledger.importing import ImportInterrupted, import_file

    size = file.stat().st_size

    async def work(ledger: Any) -> Any:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]importing[/] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[records]} records"),
            TimeElapsedColumn(),
            console=_stderr(),
        ) as progress:
            task = progress.add_task(file.name, total=size, records=0)
            return await import_file(
                ledger,
                file,
                str(format.value),
                on_record=lambda n: progress.update(task, records=n),
                mapping=mapping,
                on_bytes=lambda n: progress.update(task, completed=n),
            )

    try:
        report = _run(lambda: _with_ledger(database_url, owner, work, create=True))
    except ImportInterrupted as exc:
        _report_skipped(exc.report)
        _fail(str(exc))
    _report_skipped(report)
    out = _stdout()
    if report.reference:
        out.print(
            f"{len(report.reference)} reference record(s), not conversations (nothing stored): "
            f"{report.reference[0]}{' …' if len(report.reference) > 1 else ''}",
            highlight=False,
        )
    out.print(
        f"imported {report.created} conversations ({report.messages} messages) as {report.format}, "
        f"{report.existing} already present, {len(report.errors)} skipped "
        f"in {report.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    if report.created + report.existing == 0:
        _fail(f"nothing imported from {file}: none of its {report.records} records held a conversation")
    if report.errors:
        _print_error(
            f"{len(report.errors)} of the {report.records} records of {file} were skipped (listed above); "
            "the rest were imported"
        )
        raise typer.Exit(EXIT_SKIPPED)


def _report_skipped(report: Any) -> None:
    """The detected format and the skipped records (the first 50), on stderr."""
    from rich.text import Text

    err = _stderr()
    if report.detected:
        err.print(f"format: detected {report.detected}", highlight=False, markup=False)
    for problem in report.errors[:50]:
        line = Text("skipped", style="yellow")
        line.append(f" line {problem.line}: {problem.reason}")
        err.print(line, soft_wrap=True)
    if len(report.errors) > 50:
        err.print(Text(f"… and {len(report.errors) - 50} more skipped records", style="yellow"))


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
    import orjson

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
        _stderr().print(f"wrote {output}", highlight=False, markup=False)


# -- browsing -----------------------------------------------------------------------------------
@app.command()
def stats(owner: Annotated[str, typer.Option(help="The account.")], database_url: DatabaseUrl = None) -> None:
    """Counts of sessions and messages, per status and per kind."""
    from rich.table import Table

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
    _stdout().print(table)


@sessions_app.command("list")
def sessions_list(
    owner: Annotated[str, typer.Option(help="The account.")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    status: Annotated[ConversationStatus | None, typer.Option(help="Only this status.")] = None,
    search: Annotated[str | None, typer.Option(help="Text in the session name.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The most recently updated sessions: the name `show` and `export` take (the session_id,
    else the id) with the title under it, then status, messages and last activity (UTC). A
    terminal 100 or more columns wide also shows the kind."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from convoledger.store.base import ConversationQuery

    query = ConversationQuery(status=status, name_contains=search, limit=limit)

    async def work(ledger: Any) -> Any:
        return await ledger.list_conversations(query)

    page = _run(lambda: _with_ledger(database_url, owner, work))
    out = _stdout()
    wide = out.width >= 100
    names = [conv.session_id or conv.id for conv in page.items]
    # The session name is never folded: it is what a user copies into `show` / `export`. The
    # title under it is cut to the name column's width, so it never widens the table.
    name_width = max([24, *map(len, names)])
    table = Table(title=f"{page.total} sessions", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("session / title", no_wrap=True, min_width=name_width)
    if wide:
        table.add_column("kind", no_wrap=True)
    table.add_column("status", overflow="fold", min_width=6)
    table.add_column("msgs", justify="right", no_wrap=True)
    table.add_column("last activity", no_wrap=True)
    for name, conv in zip(names, page.items, strict=True):
        cell = Text(name, style="bold")
        title = " ".join((conv.name or conv.topic or "").split())
        if title:
            cut = title if len(title) <= name_width else title[: name_width - 1] + "…"
            cell.append("\n" + cut, style="dim")
        row: list[Any] = [cell]
        if wide:
            row.append(conv.kind.value)
        row += [conv.status.value, str(conv.message_count), conv.last_activity_at.strftime("%Y-%m-%d %H:%M")]
        table.add_row(*row)
    out.print(table)


@app.command()
def show(
    session: Annotated[str, typer.Argument(help="Session id, external session_id or session_key.")],
    owner: Annotated[str, typer.Option(help="The account that owns it.")],
    last: Annotated[int | None, typer.Option(min=1, help="Only the most recent N messages.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A readable transcript: participants, roles, message types, tool calls."""
    from convoledger.store.base import MessageQuery
    from convoledger.transcripts import render_transcript

    async def work(ledger: Any) -> Any:
        conv = await ledger.resolve(session)
        messages = await ledger.messages(conv, MessageQuery(last=last))
        total = await ledger.count(conv) if last is not None else len(messages)
        return conv, messages, total

    conv, messages, total = _run(lambda: _with_ledger(database_url, owner, work))
    render_transcript(_stdout(), conv, messages, total=total)


@app.command()
def sweep(
    database_url: DatabaseUrl = None,
    cleanup: Annotated[
        bool,
        typer.Option(help="Also delete archived sessions past max_session_age (backed up first, recorded)."),
    ] = False,
) -> None:
    """Apply the lifecycle policy once: time out idle sessions, archive long-inactive ones
    (everything due, in batches). `maintenance run` applies the seed's cleanup policies."""
    from convoledger.settings import Settings

    async def work(upkeep: Any) -> tuple[int, int, int]:
        from convoledger.maintenance.passes import delete_with_backup
        from convoledger.models.maintenance import CleanupPolicyName, PassCounts

        events = await upkeep.ledger.sweep()
        counts = PassCounts()

        async def delete(conv: Any) -> bool:
            return await delete_with_backup(upkeep, conv, CleanupPolicyName.MAX_SESSION_AGE, counts)

        deleted = await upkeep.ledger.cleanup(delete=delete) if cleanup else 0
        return len(events), deleted, counts.backup_failures

    moved, deleted, failed = _run(lambda: _with_maintenance(database_url, Settings(), work))
    _stdout().print(f"{moved} lifecycle transitions, {deleted} sessions deleted (each backed up first)")
    if failed:
        _fail(f"{failed} sessions were kept: their backup could not be written")


@app.command()
def providers() -> None:
    """The provider capability registry: stateful APIs, identifiers, notes."""
    from rich.table import Table

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
    _stdout().print(table)


# -- service ------------------------------------------------------------------------------------
DefaultTimeout = Annotated[
    float | None,
    typer.Option(
        help="Seconds without activity before an active session times out (default 3600).", min=0.001
    ),
]
MaxInactiveTime = Annotated[
    float | None,
    typer.Option(
        help="Seconds a non-active session may stay idle before cleanup (default 86400).", min=0.001
    ),
]
MaxSessionAge = Annotated[
    float | None,
    typer.Option(help="Seconds after creation when a session is cleaned up (default 604800).", min=0.001),
]
CleanupActionOpt = Annotated[
    CleanupAction | None, typer.Option(help="What cleanup does: delete (after a backup) or archive.")
]
BackupDir = Annotated[
    Path | None, typer.Option(help="Backup store directory (default: backups/ next to the SQLite ledger).")
]


def _settings_with(**overrides: Any) -> Any:
    """``Settings()`` (the environment) with the given CLI options that were set."""
    from convoledger.settings import Settings

    given: dict[str, Any] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in overrides.items() if v is not None
    }
    return Settings(**given)


#: Default ``serve --workers``: worker processes of the HTTP API, at most 2 (issue 15, measured on
#: the 2-core benchmark machine with ``../shared/bench/http/run.sh``: 2 workers serve 1.3x the
#: POSTs and 1.5x the GETs of one). One for ``memory://``, whose data lives in one process.
SERVE_WORKERS = min(2, os.cpu_count() or 1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    database_url: DatabaseUrl = None,
    no_maintenance: Annotated[
        bool, typer.Option("--no-maintenance", help="Do not run the maintenance scheduler in this server.")
    ] = False,
    cleanup_interval: Annotated[
        float | None, typer.Option(help="Seconds between maintenance passes (default 3600).", min=0.001)
    ] = None,
    default_timeout: DefaultTimeout = None,
    max_inactive_time: MaxInactiveTime = None,
    max_session_age: MaxSessionAge = None,
    cleanup_action: CleanupActionOpt = None,
    backup_dir: BackupDir = None,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Largest request body in bytes (413 beyond). "
            "[default: $CONVOLEDGER_MAX_BODY_BYTES, else 16 MiB]",
        ),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Seconds to wait for the next part of a request body (408). "
            "[default: $CONVOLEDGER_BODY_TIMEOUT, else 30]",
        ),
    ] = None,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Seconds a connection may take to send a request's headers. "
            "[default: $CONVOLEDGER_HEADER_TIMEOUT, else 10]",
        ),
    ] = None,
    keep_alive_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="Seconds (whole) an idle keep-alive connection stays open. "
            "[default: $CONVOLEDGER_KEEP_ALIVE_TIMEOUT, else 5]",
        ),
    ] = None,
    max_concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Most connections/requests at once (503 beyond). "
            "[default: $CONVOLEDGER_MAX_CONCURRENCY, else 1000]",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes serving the same port and database (default: 2, or 1 on a "
            "one-core machine; always 1 for memory://). Live streams of one process are woken "
            "by the others' commits through PostgreSQL LISTEN/NOTIFY or Redis; on SQLite without "
            "Redis they see them within stream_poll seconds.",
        ),
    ] = SERVE_WORKERS,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log a line per request (off by default: /metrics counts requests per route and "
            "status; the per-request line cost ~4 % of the event loop under load, issue 15).",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs), with the maintenance
    scheduler (timeouts, cleanup, backups, alerts every --cleanup-interval seconds).

    Limits not given as options come from the CONVOLEDGER_* settings (docs/configuration.md);
    put a reverse proxy in front for TLS and slow-client protection (docs/deployment.md)."""
    from convoledger.api.server import run, settings_environment

    url = _url(database_url)
    if url.startswith("memory:"):
        workers = 1  # every process would hold a ledger of its own
    settings = _settings_with(
        database_url=url,
        maintenance=False if no_maintenance else None,
        cleanup_interval=cleanup_interval,
        default_timeout=default_timeout,
        max_inactive_time=max_inactive_time,
        max_session_age=max_session_age,
        cleanup_action=cleanup_action,
        backup_dir=backup_dir,
        max_body_bytes=max_body_bytes,
        body_timeout=body_timeout,
        header_timeout=header_timeout,
        keep_alive_timeout=keep_alive_timeout,
        max_concurrency=max_concurrency,
    )
    console = _stdout()
    console.print(f"convoledger serving {url} at http://{host}:{port} (docs: /docs)")
    if settings.maintenance:
        console.print(
            f"maintenance every {settings.cleanup_interval:g} s "
            f"(cleanup action: {settings.cleanup_action.value})",
            highlight=False,
        )
    _log_to_stderr()
    # Each worker process builds its app from the environment (uvicorn's factory): the options
    # travel there as CONVOLEDGER_* variables.
    os.environ.update(settings_environment(settings))
    run(host=host, port=port, settings=settings, workers=workers, access_log=access_log)


def _log_to_stderr() -> None:
    """Show convoledger's own log records (maintenance passes, alerts, slow operations) at INFO
    on stderr beside uvicorn's, unless the application configured the logger already."""
    import logging

    logger = logging.getLogger("convoledger")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _check_port_free(host: str, port: int) -> None:
    """Exit with a clear message when ``host:port`` cannot be bound (another server on it, or a
    privileged port): checked before anything is imported or issued. Binds the way uvicorn
    does (``SO_REUSEADDR``), so a port merely in TIME_WAIT counts as free."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        _fail(f"cannot serve on {host}:{port}: {exc}; check --host")
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            _fail(
                f"cannot serve on {host}:{port}: {reason} (is another server running there?); "
                "pick another port with --port"
            )


#: Label of the token ``quickstart`` issues (it reuses one carrying this label).
QUICKSTART_LABEL = "quickstart"


@app.command()
def quickstart(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    owner: Annotated[str, typer.Option(help="Account that owns the sample.")] = "demo",
    database_url: DatabaseUrl = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Import and print the token, then exit.")
    ] = False,
    new_token: Annotated[
        bool,
        typer.Option(
            "--new-token", help="Revoke the token an earlier quickstart issued and print a new one."
        ),
    ] = False,
) -> None:
    """The main job: import the bundled real sample into the ledger, issue a token, serve the API.

    The port is checked first. A token is issued on the first run only (labelled
    'quickstart'); later runs say which token exists and how to list, revoke or replace it
    (--new-token). Run again, the import adds nothing (it is idempotent)."""
    from convoledger.api.auth import issue_api_key
    from convoledger.backends import display_url
    from convoledger.importing import import_sample, sample_record_count

    if not no_serve:
        _check_port_free(host, port)

    async def work(ledger: Any) -> tuple[Any, str | None, list[Any]]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]importing bundled sample[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("records"),
            TimeElapsedColumn(),
            console=_stderr(),
        ) as progress:
            task = progress.add_task("sample", total=sample_record_count())
            report = await import_sample(ledger, on_record=lambda n: progress.update(task, completed=n))
        earlier = [k for k in await ledger.store.list_api_keys(owner) if k.label == QUICKSTART_LABEL]
        if earlier and not new_token:
            return report, None, earlier
        for key in earlier:
            await ledger.store.delete_api_key(key.key_hash)
        return report, await issue_api_key(ledger.store, owner, QUICKSTART_LABEL), earlier

    report, token, earlier = _run(lambda: _with_ledger(database_url, owner, work, create=True))
    url = _url(database_url)
    base = f"http://{host}:{port}"
    out = _stdout()
    out.print(
        f"sample: {report.created} conversations imported ({report.messages} messages), "
        f"{report.existing} already present",
        highlight=False,
    )
    out.print(f"ledger: {display_url(url)}", highlight=False, markup=False, soft_wrap=True)
    if token is not None:
        if earlier:
            out.print(f"revoked the earlier quickstart token {earlier[0].key_id}", highlight=False)
        out.print(f"token for account {owner}: {token}", highlight=False, markup=False, soft_wrap=True)
        bearer = token
    else:
        out.print(
            f"account {owner} already has the token an earlier quickstart printed (id "
            f"{earlier[0].key_id}); it is stored hashed and cannot be shown again. List tokens: "
            f"convoledger user tokens {owner} · revoke one: convoledger user revoke ID · replace "
            "it: convoledger quickstart --new-token",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        bearer = "$TOKEN"  # the user's saved token: `export TOKEN=…` before the curl lines
    sign_in = "sign in with the token above" if token is not None else "sign in with that token"
    if no_serve:
        command = f"convoledger serve --port {port}"
        if host != "127.0.0.1":
            command += f" --host {host}"
        if database_url:
            command += f" --database-url '{database_url}'"
        out.print(f"serve it with:\n  {command}", highlight=False, markup=False, soft_wrap=True)
        out.print(f"then open the web UI: {base}/  ({sign_in})", highlight=False, markup=False)
        return
    out.print(f"web UI: {base}/  ({sign_in})", highlight=False, markup=False, soft_wrap=True)
    if token is None:
        out.print("with that token in $TOKEN (export TOKEN=clg_…):", highlight=False, markup=False)
    out.print(
        f'try:\n  curl -H "Authorization: Bearer {bearer}" "{base}/api/agent-sessions?size=5"\n'
        f'  curl -H "Authorization: Bearer {bearer}" "{base}/api/stats"',
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    serve(host=host, port=port, database_url=database_url)


# -- maintenance and backups ----------------------------------------------------------------------
async def _with_maintenance(
    database_url: str | None, settings: Any, work: Callable[[Any], Awaitable[T]]
) -> T:
    """Open the ledger (it must exist) with its ``Maintenance`` and run ``work(maintenance)``."""
    from convoledger.maintenance import maintenance_for

    url = _url(database_url)

    async def run(ledger: Any) -> T:
        upkeep = maintenance_for(ledger, settings, url)
        await upkeep.journal.open()
        try:
            return await work(upkeep)
        finally:
            await upkeep.journal.close()

    return await _with_ledger(database_url, "system", run)


@maintenance_app.command("run")
def maintenance_run(
    database_url: DatabaseUrl = None,
    default_timeout: DefaultTimeout = None,
    max_inactive_time: MaxInactiveTime = None,
    max_session_age: MaxSessionAge = None,
    cleanup_action: CleanupActionOpt = None,
    backup_dir: BackupDir = None,
) -> None:
    """Run one maintenance pass now, through everything that is due, and print what it handled
    per kind. Exits 1 when the pass failed (e.g. backups could not be written)."""
    from rich.table import Table

    from convoledger.maintenance import PassIncomplete, run_pass
    from convoledger.maintenance.journal import new_holder

    settings = _settings_with(
        default_timeout=default_timeout,
        max_inactive_time=max_inactive_time,
        max_session_age=max_session_age,
        cleanup_action=cleanup_action,
        backup_dir=backup_dir,
    )

    async def work(upkeep: Any) -> Any:
        try:
            return await run_pass(upkeep, new_holder("cli"))
        except PassIncomplete:
            return (await upkeep.journal.list_passes(1))[0]

    record = _run(lambda: _with_maintenance(database_url, settings, work))
    if record is None:
        _fail("another process is running a maintenance pass on this ledger right now; try again later")
    table = Table(title=f"maintenance pass {record.id} ({record.status.value})")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, value in record.counts.model_dump().items():
        table.add_row(kind, str(value))
    _stdout().print(table)
    if record.error:
        _fail(record.error)


@maintenance_app.command("deletions")
def maintenance_deletions(
    database_url: DatabaseUrl = None,
    owner: Annotated[str | None, typer.Option(help="Only this account's records.")] = None,
    limit: Annotated[int, typer.Option(help="Most records shown (newest first).", min=1, max=1000)] = 50,
) -> None:
    """Sessions deleted or archived by a cleanup policy: who, when, which policy, which backup."""
    from rich.table import Table

    from convoledger.settings import Settings

    async def work(upkeep: Any) -> Any:
        return await upkeep.journal.list_deletions(owner, limit)

    rows = _run(lambda: _with_maintenance(database_url, Settings(), work))
    table = Table(title="policy deletions")
    for col in ("at", "account", "session", "policy", "action", "actor", "backup"):
        table.add_column(col, overflow="fold")
    for d in rows:
        table.add_row(
            d.at.isoformat(timespec="seconds"),
            d.owner_id,
            d.session_id or d.conversation_id,
            d.policy.value,
            d.action.value,
            d.actor,
            d.backup_id or "",
        )
    _stdout().print(table)


@maintenance_app.command("passes")
def maintenance_passes(
    database_url: DatabaseUrl = None,
    limit: Annotated[int, typer.Option(help="Most passes shown (newest first).", min=1, max=1000)] = 20,
) -> None:
    """The pass log: when each maintenance pass ran, where, how it ended and what it handled."""
    from rich.table import Table

    from convoledger.settings import Settings

    async def work(upkeep: Any) -> Any:
        return await upkeep.journal.list_passes(limit)

    rows = _run(lambda: _with_maintenance(database_url, Settings(), work))
    table = Table(title="maintenance passes")
    for col in ("id", "started", "seconds", "holder", "status", "handled", "error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        handled = ", ".join(f"{k} {v}" for k, v in r.counts.model_dump().items() if v)
        seconds = (r.finished_at - r.started_at).total_seconds()
        table.add_row(
            str(r.id),
            r.started_at.isoformat(timespec="seconds"),
            f"{seconds:.2f}",
            r.holder,
            r.status.value,
            handled,
            r.error or "",
        )
    _stdout().print(table)


@backup_app.command("run")
def backup_run(
    database_url: DatabaseUrl = None,
    owner: Annotated[str | None, typer.Option(help="Only this account's sessions.")] = None,
    backup_dir: BackupDir = None,
) -> None:
    """Back up every active session now (the seed's daily backup, on demand)."""
    from convoledger.maintenance.passes import backup_active_sessions

    settings = _settings_with(backup_dir=backup_dir)

    async def work(upkeep: Any) -> tuple[int, int, Any]:
        done, failed = await backup_active_sessions(upkeep, owner_id=owner)
        return done, failed, upkeep.backups.root

    done, failed, root = _run(lambda: _with_maintenance(database_url, settings, work))
    _stdout().print(f"{done} sessions backed up to {root}", highlight=False)
    if failed:
        _fail(f"{failed} backups could not be written to {root}")


@backup_app.command("list")
def backup_list(
    database_url: DatabaseUrl = None,
    owner: Annotated[str | None, typer.Option(help="Only this account's backups.")] = None,
    limit: Annotated[int, typer.Option(help="Most backups shown (newest first).", min=1, max=1000)] = 50,
    backup_dir: BackupDir = None,
) -> None:
    """The backups in the backup store, newest first."""
    from rich.table import Table

    settings = _settings_with(backup_dir=backup_dir)

    async def work(upkeep: Any) -> Any:
        return await upkeep.backups.list_backups(owner, limit)

    rows = _run(lambda: _with_maintenance(database_url, settings, work))
    table = Table(title="backups")
    for col in ("backup id", "account", "session", "reason", "policy", "bytes"):
        table.add_column(col, overflow="fold")
    for b in rows:
        table.add_row(
            b.backup_id,
            b.owner_id,
            b.session_id or b.conversation_id,
            b.reason.value,
            b.policy or "",
            str(b.size_bytes),
        )
    _stdout().print(table)


@backup_app.command("restore")
def backup_restore(
    backup_id: Annotated[str, typer.Argument(help="The backup id (`convoledger backup list`).")],
    database_url: DatabaseUrl = None,
    backup_dir: BackupDir = None,
) -> None:
    """Restore a backed-up session into its account, exactly as it was (same ids and times)."""
    settings = _settings_with(backup_dir=backup_dir)

    async def work(upkeep: Any) -> Any:
        document = await upkeep.backups.read(backup_id)
        return await upkeep.ledger.for_owner(document["owner_id"]).restore_bundle(document["bundle"])

    record = _run(lambda: _with_maintenance(database_url, settings, work))
    _stdout().print(
        f"restored session {record.session_id or record.id} ({record.message_count} messages) "
        f"for account {record.owner_id}",
        highlight=False,
    )


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the SQL schema to the newest migration (Alembic)."""
    from convoledger.backends import normalize_sql_url
    from convoledger.store.sql import upgrade_database

    url = _url(database_url)
    if not url.startswith(("sqlite", "postgres")):
        _fail(f"db upgrade applies to SQL databases only, not {url!r}")
    _run(lambda: upgrade_database(normalize_sql_url(url)))
    _stdout().print(f"database at {url} is at the newest schema", highlight=False, markup=False)


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m convoledger``."""
    app()
