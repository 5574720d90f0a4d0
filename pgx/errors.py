"""One exception hierarchy for everything pgx refuses to do.

Every message says what was wrong, where (file:line, or sample and gene) and, when
there is one, what to do about it. The CLI prints ``str(error)`` on one line and exits
with ``error.exit_code``; nothing else is printed.
"""

from __future__ import annotations

import re
from pathlib import Path

FIELDS = frozenset(
    {
        "calls", "chunk_size", "engine", "folds", "format", "iwpc", "meds_table", "output", "patient", "phenotype",
        "report", "sample", "scheduler", "source", "vcf", "workers",
    }
)  # fmt: skip
"""Argument names an error may name as its ``field`` or as ``{name}`` in its hint; a shell maps each to its own
spelling (the CLI to its flags)."""
_FIELD_REF = re.compile(r"\{([a-z_]+)\}")


class PgxError(Exception):
    """Base class. ``exit_code`` 2 means bad input, 1 means pgx itself failed.

    ``field`` names the argument or setting at fault by its library name (``patient``,
    ``workers``): the message reads "patient: ...", and a shell such as the CLI may name its
    own spelling of it instead (``--patient``) with :meth:`named`.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def named(self, names: dict[str, str]) -> str:
        """The message with the field spelt as ``names`` spells it (the CLI's flags). A hint may name
        other fields as ``{field}`` ("choose one with {sample}"); hints are pgx's own words, never input."""
        where = names.get(self.field, self.field) if self.field else None
        text = f"{where}: {self.message}" if where else self.message
        if not self.hint:
            return text
        hint = _FIELD_REF.sub(
            lambda m: names.get(m.group(1), m.group(1)) if m.group(1) in FIELDS else m.group(0), self.hint
        )
        return f"{text} ({hint})"

    def __str__(self) -> str:
        return self.named({})


class InputError(PgxError):
    """The user gave us something we cannot use."""

    exit_code = 2


class LocatedInputError(InputError):
    """Bad input at a known place in a file."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        sample: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.sample = sample
        where = self.path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        if sample is not None:
            where += f": sample {sample}"
        super().__init__(f"{where}: {message}", hint=hint)


class VcfError(LocatedInputError):
    """A VCF/BCF file is malformed or unusable."""


class BuildError(VcfError):
    """The input is not on the genome build pgx can call (GRCh38 for now)."""


class OutsideCallError(LocatedInputError):
    """An outside-call TSV is malformed or names something unknown."""


class KnowledgeError(LocatedInputError):
    """A knowledge YAML file does not validate against its schema."""


class RuleError(LocatedInputError):
    """A rule file does not validate, or the rule base contradicts itself or the knowledge base."""


class ImportSourceError(InputError):
    """A source table for ``pgx knowledge build`` is missing or inconsistent."""


class SimulationError(InputError):
    """``pgx simulate`` was asked for a diplotype the knowledge base cannot produce."""


class UsageError(InputError):
    """Command-line arguments that contradict each other or name unknown things."""


class ModelError(InputError):
    """A model artifact is missing, tampered with, or behaves differently from when it was trained."""


class PatientFileError(LocatedInputError):
    """A patient covariate file (``--patient``) or an outcomes table does not validate."""


class BatchError(LocatedInputError):
    """A batch's sample list or medication table is malformed, or its output folder holds another batch."""
