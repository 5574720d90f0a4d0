"""`pgx report` and `pgx graph ...`: thin shells over pgx.report.drugs and pgx.graph."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pgx.errors import UsageError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)
graph_app = typer.Typer(help="Query and export the drug-gene graph.", no_args_is_help=True)


class ReportFormat(str, Enum):
    html = "html"
    json = "json"
    tsv = "tsv"


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def report(
    vcf: Annotated[Path, typer.Argument(help="VCF/BCF to report on", show_default=False)],
    sample: Annotated[list[str] | None, typer.Option("--sample", "-s", help="Sample(s) (default: all)")] = None,
    meds: Annotated[list[str] | None, typer.Option("--meds", help="Current medications, comma-separated")] = None,
    outside_calls: Annotated[Path | None, typer.Option("--outside-calls", help="TSV of calls made elsewhere")] = None,
    drugs: Annotated[list[str] | None, typer.Option("--drugs", help="Only these drugs, comma-separated")] = None,
    all_drugs: Annotated[bool, typer.Option("--all-drugs", help="Every drug with a guideline (the default)")] = False,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format")] = ReportFormat.html,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout)")] = None,
    missing_to_ref: Annotated[
        bool, typer.Option("--missing-to-ref", help="Absent positions read as reference (panel/imputed files only)")
    ] = False,
    knowledge: Annotated[Path | None, typer.Option("--knowledge", help="Knowledge folder (default: bundled)")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Rules folder (default: bundled)")] = None,
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
    from pgx.cli.main import _emit
    from pgx.knowledge.loader import load_knowledge
    from pgx.report.drugs import report_vcf
    from pgx.report.html import render_html
    from pgx.rules.loader import load_rules

    wanted = _split(drugs)
    if wanted and all_drugs:
        raise UsageError("give --drugs or --all-drugs, not both")
    ranker = None
    if model is not None:
        from pgx.ml.ranker import load_ranker

        ranker = load_ranker(str(model))
    report_model = report_vcf(
        vcf,
        samples=sample,
        outside_calls=outside_calls,
        medications=_split(meds),
        drugs=wanted or None,
        missing_to_ref=missing_to_ref,
        knowledge=load_knowledge(str(knowledge) if knowledge else None),
        rules=load_rules(str(rules) if rules else None),
        indication=indication,
        patient=patient,
        ranker=ranker,
    )
    if fmt is ReportFormat.html:
        text = render_html(report_model)
    elif fmt is ReportFormat.tsv:
        from pgx.report.drug_tsv import render_drug_tsv

        text = render_drug_tsv(report_model)
    else:
        text = report_model.model_dump_json(indent=2) + "\n"
    _emit(text, output)
    for warning in dict.fromkeys(w for s in report_model.samples for w in s.medication_warnings):
        err.print(f"pgx: warning: {warning}", markup=False, soft_wrap=True)


def _patient(vcf: Path | None, sample: str | None, phenotype: list[str] | None, meds: list[str] | None):  # type: ignore[no-untyped-def]
    from pgx.knowledge.loader import load_knowledge
    from pgx.phenotype.conversion import apply_medications
    from pgx.rules.patient import from_phenotypes, patient_state

    kb = load_knowledge()
    if vcf is not None:
        from pgx.calling.pipeline import call_vcf

        report = call_vcf(vcf, samples=[sample] if sample else None, knowledge=kb)
        if len(report.samples) != 1:
            raise UsageError(f"{vcf} has {len(report.samples)} samples; choose one with --sample")
        s = report.samples[0]
        return kb, apply_medications(kb, patient_state(s.sample, s.genes, _split(meds)))
    given: dict[str, str] = {}
    scores: dict[str, float] = {}
    for item in phenotype or []:
        gene, value = _phenotype_option(kb, item)
        if isinstance(value, float):
            from pgx.phenotype.phenotyper import phenotype_from_score

            scores[gene] = value
            given[gene] = phenotype_from_score(kb.gene(gene), value)
        else:
            given[gene] = value
    return kb, apply_medications(kb, from_phenotypes("query", given, scores, medications=_split(meds)))


def _phenotype_option(kb, item: str) -> tuple[str, str | float]:  # type: ignore[no-untyped-def]
    """GENE=PHENOTYPE (or GENE=activity score, or HLA-B='*57:01 positive'), checked against the knowledge base."""
    from pgx.rules.curator import gene_phenotypes

    if "=" not in item:
        raise UsageError(f"--phenotype {item!r}: expected GENE=PHENOTYPE, e.g. CYP2C19='Poor Metabolizer'")
    name, value = (part.strip() for part in item.split("=", 1))
    genes = {g.lower(): g for g in kb.genes}
    if name.lower() not in genes:
        raise UsageError(f"--phenotype {item!r}: unknown gene {name!r}", hint="`pgx genes` lists them")
    gene = kb.gene(genes[name.lower()])
    ph = gene.phenotyping
    if ph.method == "activity_score":
        try:
            return gene.gene, float(value)
        except ValueError:
            pass
    if ph.method == "allele_status":
        allele, _, status = value.partition(" ")
        if allele in ph.status_alleles and status.lower() in ("positive", "negative"):
            return gene.gene, f"{allele} {status.lower()}"
        choices = ", ".join(f"'{a} positive'" for a in ph.status_alleles)
        raise UsageError(f"--phenotype {item!r}: expected an allele status for {gene.gene}: {choices} (or negative)")
    known = {p.lower(): p for p in gene_phenotypes(gene)}
    if value.lower() not in known:
        raise UsageError(
            f"--phenotype {item!r}: {gene.gene} has no phenotype {value!r}",
            hint="one of: " + ", ".join(sorted(known.values())),
        )
    return gene.gene, known[value.lower()]


def _tsv(*columns: object) -> None:
    """Tab-separated lines for scripts (rich would turn tabs into spaces)."""
    typer.echo("\t".join(str(c) for c in columns))


Vcf = Annotated[Path | None, typer.Option("--vcf", help="Take the patient's results from this VCF")]
Sample = Annotated[str | None, typer.Option("--sample", help="Sample of the VCF")]
Phen = Annotated[list[str] | None, typer.Option("--phenotype", "-p", help="GENE=PHENOTYPE instead of a VCF (repeat)")]
Meds = Annotated[list[str] | None, typer.Option("--meds", help="Current medications, comma-separated")]


@graph_app.command("affected")
def affected(vcf: Vcf = None, sample: Sample = None, phenotype: Phen = None, meds: Meds = None) -> None:
    """Drugs whose pathway genes carry an atypical phenotype in this patient."""
    from pgx.graph import affected_drugs, graph_for
    from pgx.rules.loader import load_rules

    kb, patient = _patient(vcf, sample, phenotype, meds)
    for a in affected_drugs(graph_for(kb, load_rules()), patient):
        _tsv(a.drug, a.gene, a.role, a.phenotype)


@graph_app.command("alternatives")
def alternatives(
    drug: Annotated[str, typer.Argument(help="Drug to replace")],
    vcf: Vcf = None,
    sample: Sample = None,
    phenotype: Phen = None,
    meds: Meds = None,
) -> None:
    """Drugs of the same class or indication that do not depend on a gene this patient has atypical."""
    from pgx.graph import alternatives as alts
    from pgx.graph import graph_for
    from pgx.rules.loader import load_rules

    kb, patient = _patient(vcf, sample, phenotype, meds)
    for a in alts(graph_for(kb, load_rules()), drug.lower(), patient):
        _tsv(a["drug"], a["why"], f"pathway genes: {a['pathway_genes']}")


@graph_app.command("path")
def path(
    drug: Annotated[str, typer.Argument(help="Drug whose flag to explain")],
    vcf: Vcf = None,
    sample: Sample = None,
    phenotype: Phen = None,
    meds: Meds = None,
) -> None:
    """The evidence path of each rule that fires: genotype -> phenotype -> pathway -> drug -> rule."""
    from pgx.graph import evidence_path, graph_for
    from pgx.rules.engine import evaluate_drug
    from pgx.rules.loader import load_rules
    from pgx.rules.schema import LookupRule

    kb, patient = _patient(vcf, sample, phenotype, meds)
    rb = load_rules()
    if not rb.rules_for(drug):
        from pgx.report.drugs import _check_drugs

        _check_drugs(rb, kb, [drug])  # unknown drug: a usage error
        out.print(f"{drug.lower()}: no guideline rule in the rule base", markup=False)
        return
    g = graph_for(kb, rb)
    rules = {r.id: r for r in rb.rules_for(drug) if isinstance(r, LookupRule)}
    outcome = evaluate_drug(rb, drug.lower(), patient)
    for src in outcome.sources:
        if not src.scenarios:
            out.print(f"{src.source}: {src.status}: {src.reason}", markup=False)
        for sc in src.scenarios:
            for r in sc.rules:
                rule = rules.get(r.rule_id)
                steps = (
                    [s.text for s in evidence_path(g, patient, drug.lower(), rule)] if rule else [r.rule_id, *r.details]
                )
                out.print(" -> ".join(steps), markup=False)


@graph_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="graphml or json")] = "graphml",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout)")] = None,
) -> None:
    """Export the whole graph for curators (GraphML for Gephi/Cytoscape, or node-link JSON)."""
    from pgx.cli.main import _emit
    from pgx.graph import export as do_export
    from pgx.graph import graph_for
    from pgx.knowledge.loader import load_knowledge
    from pgx.rules.loader import load_rules

    if fmt not in ("graphml", "json"):
        raise UsageError(f"--format {fmt!r}: choose graphml or json")
    _emit(do_export(graph_for(load_knowledge(), load_rules()), fmt), output)
