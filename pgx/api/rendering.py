"""Any pgx document as text: JSON, HTML (drug reports) or TSV."""

from __future__ import annotations

from typing import Literal

from pgx.calling.models import CallReport
from pgx.errors import UsageError
from pgx.report.calls_tsv import render_tsv
from pgx.report.drug_tsv import render_drug_tsv
from pgx.report.html import render_html
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
    return render_html(report) if fmt == "html" else render_drug_tsv(report)
