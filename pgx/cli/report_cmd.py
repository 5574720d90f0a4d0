"""`pgx report`: a thin shell over pgx.api (assess a VCF or a `pgx call` JSON, then render)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from pgx import api
from pgx.cli.common import KnowledgeDir, MissingToRef, RulesDir, emit, err, split_list
from pgx.errors import UsageError
from pgx.knowledge.loader import load_knowledge


class ReportFormat(str, Enum):
    html = "html"
    json = "json"
    tsv = "tsv"


def report(
    vcf: Annotated[
        Path | None, typer.Argument(help="VCF/BCF to report on (or give --calls)", show_default=False)
    ] = None,
    calls: Annotated[
        Path | None,
        typer.Option("--calls", help="Report from this `pgx call` JSON (or a batch's samples/*.json) instead of a VCF"),
    ] = None,
    sample: Annotated[list[str] | None, typer.Option("--sample", "-s", help="Sample(s) (default: all)")] = None,
    meds: Annotated[list[str] | None, typer.Option("--meds", help="Current medications, comma-separated")] = None,
    outside_calls: Annotated[Path | None, typer.Option("--outside-calls", help="TSV of calls made elsewhere")] = None,
    drugs: Annotated[list[str] | None, typer.Option("--drugs", help="Only these drugs, comma-separated")] = None,
    all_drugs: Annotated[bool, typer.Option("--all-drugs", help="Every drug with a guideline (the default)")] = False,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format")] = ReportFormat.html,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout)")] = None,
    missing_to_ref: MissingToRef = False,
    knowledge: KnowledgeDir = None,
    rules: RulesDir = None,
    indication: Annotated[
        str | None,
        typer.Option(
            "--indication",
            help="Rank this indication's drugs by predicted response, e.g. antiplatelet, statin, depression",
        ),
    ] = None,
    patient: Annotated[
        Path | None,
        typer.Option(
            "--patient",
            help="Patient covariates YAML (age, height_cm, weight_kg, sex, race, medications) for the dose model",
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--ranker-model", help="Re-ranker trained with `pgx ml train` (default: the bundled evidence-based prior)"
        ),
    ] = None,
) -> None:
    """Flag every guideline drug for a patient: avoid, change the dose, or use as usual, and why."""
    from pgx.rules.loader import load_rules

    wanted = split_list(drugs)
    if wanted and all_drugs:
        raise UsageError("give --drugs or --all-drugs, not both")
    if (vcf is None) == (calls is None):
        raise UsageError("give a VCF or --calls (one of them)")
    if calls is not None and (outside_calls is not None or missing_to_ref):
        raise UsageError("--outside-calls and --missing-to-ref apply when calling: give them to `pgx call`")
    ranker = None
    if model is not None:
        from pgx.ml.ranker import load_ranker  # scikit-learn: loaded only for a ranking

        ranker = load_ranker(str(model))
    kb = load_knowledge(str(knowledge) if knowledge else None)
    rb = load_rules(str(rules) if rules else None)
    medications = split_list(meds)
    if calls is not None:
        report_model = api.assess_calls(
            calls, samples=sample, medications=medications, drugs=wanted or None, knowledge=kb, rules=rb,
            indication=indication, patient=patient, ranker=ranker,
        )  # fmt: skip
    else:
        assert vcf is not None
        report_model = api.assess_vcf(
            vcf, samples=sample, outside_calls=outside_calls, missing_to_ref=missing_to_ref, medications=medications,
            drugs=wanted or None, knowledge=kb, rules=rb, indication=indication, patient=patient, ranker=ranker,
        )  # fmt: skip
    emit(api.render(report_model, fmt.value), output)
    for warning in dict.fromkeys(w for s in report_model.samples for w in s.medication_warnings):
        err.print(f"pgx: warning: {warning}", markup=False, soft_wrap=True)
