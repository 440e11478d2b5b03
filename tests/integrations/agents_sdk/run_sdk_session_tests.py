"""Run the OpenAI Agents SDK's own session tests against convoledger's ``LedgerSession``.

    python tests/integrations/agents_sdk/run_sdk_session_tests.py [--mode local|remote|both]
                                                                  [--cache DIR] [SDK test files…]

1. Fetches the source distribution of the *installed* ``openai-agents`` version from PyPI
   (``pip download --no-deps --no-binary :all: openai-agents==<version>``) into a cache directory
   (``--cache``, else ``$CONVOLEDGER_SDK_CACHE``, else ``~/.cache/convoledger/sdk-tests``) and
   unpacks it there once. Its tests are not copied into this repository.
2. Runs pytest inside the unpacked sdist on the SDK's session test files (default:
   :data:`SDK_TEST_FILES`), unchanged, with ``-p ledger_session_plugin`` (this directory), which
   replaces the ``SQLiteSession`` they construct by a ``LedgerSession``:
   ``local`` = in-process over a store URL; ``remote`` = over HTTP to a real ``convoledger serve``
   started here on a fresh SQLite ledger (``tests/serve_process.py``).

Exit status: 0 when every run passed, else the first failing pytest status. Needs the
``convoledger[agents]`` extra and the SDK's test dependency ``pytest-asyncio`` (in ``[test]``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
#: The SDK test files that construct ``SQLiteSession`` and exercise the ``Session`` protocol.
SDK_TEST_FILES = ("tests/memory/test_session.py", "tests/memory/test_session_limit.py")


def default_cache() -> Path:
    """``$CONVOLEDGER_SDK_CACHE`` or ``~/.cache/convoledger/sdk-tests``."""
    configured = os.environ.get("CONVOLEDGER_SDK_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "convoledger" / "sdk-tests"


def fetch_sdist(cache: Path, version: str | None = None) -> Path:
    """The unpacked sdist directory of ``openai-agents`` ``version`` (default: the installed one),
    downloaded and unpacked into ``cache`` unless already there. ``RuntimeError`` when pip fails."""
    version = version or importlib.metadata.version("openai-agents")
    root = cache / f"openai_agents-{version}"
    if (root / "tests" / "memory").is_dir():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as download:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"openai-agents=={version}",
                "-d",
                download,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pip download openai-agents=={version} failed:\n{done.stderr}")
        archives = sorted(Path(download).glob("openai_agents-*.tar.gz"))
        if not archives:
            raise RuntimeError(f"pip download left no openai_agents sdist in {download}")
        with tarfile.open(archives[0]) as archive:
            archive.extractall(cache, filter="data")
    if not (root / "tests" / "memory").is_dir():
        raise RuntimeError(f"the sdist of openai-agents {version} has no tests/memory (looked in {root})")
    return root


def run_pytest(sdist: Path, files: Sequence[str], env: Mapping[str, str]) -> int:
    """pytest on ``files`` inside ``sdist`` with the plugin; its exit status."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "ledger_session_plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rs",
    ]
    environment = {**os.environ, **env}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), environment.get("PYTHONPATH")]))
    return subprocess.run([*command, *files], cwd=sdist, env=environment, check=False).returncode


def run_mode(mode: str, sdist: Path, files: Sequence[str]) -> int:
    """One run: ``local``, or ``remote`` against a fresh ``convoledger serve``."""
    print(f"== openai-agents session tests against LedgerSession ({mode}) ==", flush=True)
    if mode == "local":
        return run_pytest(sdist, files, {"CONVOLEDGER_SDK_SESSION_MODE": "local"})
    sys.path.insert(0, str(TESTS))
    from serve_process import running_serve

    with (
        tempfile.TemporaryDirectory() as base,
        running_serve(
            f"sqlite:///{Path(base) / 'ledger.db'}", log_dir=Path(base), accounts=("sdk",)
        ) as served,
    ):
        token = served.headers["sdk"]["Authorization"].removeprefix("Bearer ")
        env = {
            "CONVOLEDGER_SDK_SESSION_MODE": "remote",
            "CONVOLEDGER_SDK_BASE_URL": served.base_url,
            "CONVOLEDGER_SDK_TOKEN": token,
        }
        return run_pytest(sdist, files, env)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("local", "remote", "both"), default="both")
    parser.add_argument("--cache", type=Path, default=None, help="where the sdist is kept")
    parser.add_argument("files", nargs="*", default=list(SDK_TEST_FILES), help="SDK test files (sdist paths)")
    args = parser.parse_args(argv)
    sdist = fetch_sdist(args.cache or default_cache())
    status = 0
    for mode in ("local", "remote") if args.mode == "both" else (args.mode,):
        status = status or run_mode(mode, sdist, args.files)
    return status


if __name__ == "__main__":
    sys.exit(main())
