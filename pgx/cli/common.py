"""What every ``pgx`` subcommand shares: where text goes, how lists are split, and the flag names.

Library errors name the argument at fault by its library name (``field``); the CLI shows its
own flag instead, from :data:`FLAGS`, so a user reads ``--patient: ...`` and a library caller
``patient: ...``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pgx.errors import FIELDS
from pgx.fileio import atomic_write_text

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

FLAGS = {name: "--" + name.replace("_", "-") for name in FIELDS}


def emit(text: str, output: Path | None) -> None:
    """Write to ``output`` atomically (a failed run leaves no file), or to stdout for None or ``-``."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(output, text)


def split_list(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated values as one list: ``--meds a,b --meds c`` -> [a, b, c]."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def tsv(*columns: object) -> None:
    """Tab-separated lines for scripts (rich would turn tabs into spaces)."""
    typer.echo("\t".join(str(c) for c in columns))


# Options several commands share, written once so their names and help cannot drift apart.
KnowledgeDir = Annotated[Path | None, typer.Option("--knowledge", help="Knowledge folder (default: bundled)")]
RulesDir = Annotated[Path | None, typer.Option("--rules", help="Rules folder (default: bundled)")]
Genes = Annotated[list[str] | None, typer.Option("--gene", "-g", help="Restrict to these genes")]
MissingToRef = Annotated[
    bool,
    typer.Option(
        "--missing-to-ref",
        help="Read positions absent from the file as reference (panel/imputed files only; recorded in the output)",
    ),
]
