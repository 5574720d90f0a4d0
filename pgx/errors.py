"""One exception hierarchy for everything pgx refuses to do.

Every message says what was wrong, where (file:line, or sample and gene) and, when
there is one, what to do about it. The CLI prints ``str(error)`` on one line and exits
with ``error.exit_code``; nothing else is printed.
"""

from __future__ import annotations

from pathlib import Path


class PgxError(Exception):
    """Base class. ``exit_code`` 2 means bad input, 1 means pgx itself failed."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


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
