"""Stage 1 as a library call: VCF (+ outside calls) -> CallReport, and reading one back from its JSON."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from pgx.calling.models import CallReport
from pgx.calling.pipeline import call_vcf
from pgx.errors import LocatedInputError

call = call_vcf


def read_calls(path: str | Path) -> CallReport:
    """The CallReport ``pgx call -f json`` wrote (or one sample's file from ``pgx batch``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LocatedInputError(path, f"cannot read ({exc.strerror})") from None
    try:
        return CallReport.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        raise LocatedInputError(
            path, f"not a pgx call result: {where}: {err['msg']}", hint="give the JSON `pgx call` writes"
        ) from None
