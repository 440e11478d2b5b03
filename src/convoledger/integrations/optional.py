"""Optional framework imports that fail with an install hint."""

from __future__ import annotations


def missing_extra(exc: ModuleNotFoundError, module: str, extra: str, package: str) -> ImportError:
    """The error to raise when importing ``module`` failed with ``exc``: an ``ImportError`` saying
    to ``pip install "convoledger[<extra>]"`` (or ``package``) when ``module`` itself is missing;
    ``exc`` unchanged when something else is (a broken install should not read as a missing one).

    Use: ``try: import agents`` … ``except ModuleNotFoundError as exc: raise missing_extra(exc,
    "agents", "agents", "openai-agents") from exc``.
    """
    if exc.name is None or exc.name.split(".")[0] != module.split(".")[0]:
        return exc
    return ImportError(
        f"this convoledger integration needs the {package!r} package: "
        f'pip install "convoledger[{extra}]" (or: pip install {package})'
    )
