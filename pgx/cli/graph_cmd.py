"""`pgx graph ...`: query and export the drug-gene graph; `path` explains the report's own flag."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pgx.cli.common import emit, out, split_list, tsv
from pgx.errors import UsageError
from pgx.knowledge.loader import KnowledgeBase, load_knowledge

if TYPE_CHECKING:
    from pgx.patient.state import PatientState

# The graph (networkx) and the flag decision load when a graph command runs, not for every `pgx` command.

graph_app = typer.Typer(help="Query and export the drug-gene graph.", no_args_is_help=True)

Vcf = Annotated[Path | None, typer.Option("--vcf", help="Take the patient's results from this VCF")]
Sample = Annotated[str | None, typer.Option("--sample", help="Sample of the VCF")]
Phen = Annotated[list[str] | None, typer.Option("--phenotype", "-p", help="GENE=PHENOTYPE instead of a VCF (repeat)")]
Meds = Annotated[list[str] | None, typer.Option("--meds", help="Current medications, comma-separated")]


def _patient(
    vcf: Path | None, sample: str | None, phenotype: list[str] | None, meds: list[str] | None
) -> tuple[KnowledgeBase, PatientState]:
    """The patient before phenoconversion, from a VCF sample or typed-in results."""
    from pgx.patient.query import described_patient, sample_patient

    kb = load_knowledge()
    if vcf is not None:
        return kb, sample_patient(kb, vcf, sample, split_list(meds))
    return kb, described_patient(kb, phenotype or [], split_list(meds))


@graph_app.command("affected")
def affected_cmd(vcf: Vcf = None, sample: Sample = None, phenotype: Phen = None, meds: Meds = None) -> None:
    """Drugs whose pathway genes carry an atypical phenotype in this patient."""
    from pgx.graph import affected_drugs, graph_for
    from pgx.patient.conversion import apply_medications
    from pgx.rules.loader import load_rules

    kb, patient = _patient(vcf, sample, phenotype, meds)
    for a in affected_drugs(graph_for(kb, load_rules()), apply_medications(kb, patient)):
        tsv(a.drug, a.gene, a.role, a.phenotype)


@graph_app.command("alternatives")
def alternatives_cmd(
    drug: Annotated[str, typer.Argument(help="Drug to replace")],
    vcf: Vcf = None,
    sample: Sample = None,
    phenotype: Phen = None,
    meds: Meds = None,
) -> None:
    """Drugs of the same class or indication that do not depend on a gene this patient has atypical."""
    from pgx.graph import alternatives, graph_for
    from pgx.patient.conversion import apply_medications
    from pgx.rules.loader import load_rules

    kb, patient = _patient(vcf, sample, phenotype, meds)
    for a in alternatives(graph_for(kb, load_rules()), drug.lower(), apply_medications(kb, patient)):
        tsv(a["drug"], a["why"], f"pathway genes: {a['pathway_genes']}")


@graph_app.command("path")
def path_cmd(
    drug: Annotated[str, typer.Argument(help="Drug whose flag to explain")],
    vcf: Vcf = None,
    sample: Sample = None,
    phenotype: Phen = None,
    meds: Meds = None,
) -> None:
    """Why the report flags this drug as it does: its level, then genotype -> phenotype -> pathway -> drug -> rule."""
    from pgx.flags.explain import explain, report_flag
    from pgx.flags.names import check_drugs
    from pgx.rules.loader import load_rules

    kb, patient = _patient(vcf, sample, phenotype, meds)
    rb = load_rules()
    [name] = check_drugs(rb, kb, [drug]) or []
    flag = report_flag(kb, rb, patient, name)
    if flag is None:
        out.print(f"{name}: no guideline rule in the rule base applies to this patient", markup=False)
        return
    for line in explain(flag):
        out.print(line, markup=False)


@graph_app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", "-f", help="graphml or json")] = "graphml",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout)")] = None,
) -> None:
    """Export the whole graph for curators (GraphML for Gephi/Cytoscape, or node-link JSON)."""
    from pgx.rules.loader import load_rules

    if fmt not in ("graphml", "json"):
        raise UsageError(f"--format {fmt!r}: choose graphml or json")
    from pgx.graph import export, graph_for

    emit(export(graph_for(load_knowledge(), load_rules()), fmt), output)
