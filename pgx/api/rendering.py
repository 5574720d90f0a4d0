"""Any pgx document as text: JSON, HTML (drug reports) or TSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pgx.calling.models import CallReport
from pgx.errors import UsageError
from pgx.report.calls_tsv import render_tsv

if TYPE_CHECKING:
    from pgx.report.models import DrugReport

Format = Literal["json", "html", "tsv"]


def render(report: DrugReport | CallReport, fmt: Format) -> str:
    """A report as text: JSON (the document itself), HTML (drug reports) or TSV."""
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if isinstance(report, CallReport):
        if fmt == "tsv":
            return render_tsv(report)
        raise UsageError("call results render as json or tsv", field="format")
    # Jinja and the drug-gene graph (behind the flag models) load only for drug reports: `pgx call` stays fast.
    if fmt == "html":
        from pgx.report.html import render_html

        return render_html(report)
    from pgx.report.drug_tsv import render_drug_tsv

    return render_drug_tsv(report)
