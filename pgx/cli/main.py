"""The ``pgx`` command: a thin shell over library calls.

Every failure is one line on stderr (``pgx: error: ...``) with exit code 2 for bad input
and 1 for anything else; outputs are written atomically, so a failed run leaves no file.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.console import Console
from rich.table import Table

from pgx import __version__, api
from pgx.cli.batch_cmd import batch
from pgx.cli.common import FLAGS, Genes, KnowledgeDir, MissingToRef, emit, err
from pgx.cli.graph_cmd import graph_app
from pgx.cli.ml_cmd import ml_app
from pgx.cli.report_cmd import report
from pgx.cli.rules_cmd import rules_app
from pgx.cli.service_cmd import serve, service_app
from pgx.errors import LocatedInputError, PgxError, UsageError
from pgx.fileio import atomic_write_bytes_from, atomic_write_text
from pgx.knowledge.loader import KnowledgeBase, load_knowledge

if TYPE_CHECKING:
    from pgx.calling.models import CallReport
    from pgx.simulate.vcf import SampleSpec

# Subcommand modules import the library inside each command, so `pgx call` pays only for calling.

app = typer.Typer(
    name="pgx",
    help="Pharmacogenomics engine: VCF -> star-allele diplotypes -> phenotypes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
knowledge_app = typer.Typer(help="Build, validate and export the gene knowledge base.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")


class OutputFormat(str, Enum):
    json = "json"
    tsv = "tsv"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pgx {__version__} (knowledge {load_knowledge().version})")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Show versions and exit.",
        ),
    ] = None,
) -> None:
    """pgx: pharmacogenomic calls you can reproduce."""


@app.command("call")
def call_cmd(
    vcf: Annotated[Path, typer.Argument(help="VCF, VCF.gz (bgzip/gzip, indexed or not) or BCF", show_default=False)],
    sample: Annotated[list[str] | None, typer.Option("--sample", "-s", help="Sample(s) to call (default: all)")] = None,
    outside_calls: Annotated[Path | None, typer.Option("--outside-calls", help="TSV of calls made elsewhere")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format")] = OutputFormat.json,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: stdout)")] = None,
    gene: Genes = None,
    missing_to_ref: MissingToRef = False,
    all_matches: Annotated[
        bool, typer.Option("--all-matches", help="Also list lower-scoring diplotypes that fit")
    ] = False,
    knowledge: KnowledgeDir = None,
) -> None:
    """Call diplotypes and phenotypes for every covered gene."""
    kb = load_knowledge(str(knowledge) if knowledge else None)
    report = api.call(
        vcf,
        samples=sample,
        outside_calls=outside_calls,
        genes=gene,
        missing_to_ref=missing_to_ref,
        all_matches=all_matches,
        knowledge=kb,
    )
    emit(api.render(report, fmt.value), output)
    if output is not None and str(output) != "-" and err.is_terminal:
        _summary(report)


def _summary(report: CallReport) -> None:
    table = Table(title=f"{report.input.name}: {len(report.samples)} sample(s)", show_lines=False)
    for col in ("sample", "gene", "diplotype", "phenotype"):
        table.add_column(col)
    for s in report.samples[:3]:
        for g in s.genes:
            dip = (
                " or ".join(d.name for d in g.diplotypes)
                if g.status == "called"
                else f"[yellow]not called[/]: {g.reason}"
            )
            table.add_row(s.sample, g.gene, dip, " or ".join(g.phenotypes))
    err.print(table)


@app.command("genes")
def genes_cmd(
    alleles: Annotated[str | None, typer.Option("--alleles", help="List the named alleles of this gene")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    knowledge: KnowledgeDir = None,
) -> None:
    """List covered genes (or one gene's alleles) and the knowledge version."""
    from pgx.knowledge import catalog

    kb = load_knowledge(str(knowledge) if knowledge else None)
    if alleles:
        _gene_alleles(kb, alleles, as_json)
        return
    genes = catalog.gene_rows(kb)
    if as_json:
        doc = {"pgx_version": __version__, "knowledge_version": kb.version, "sources": catalog.sources(kb)}
        typer.echo(json.dumps({**doc, "genes": genes}, indent=2))
        return
    table = Table(title=f"pgx {__version__}, knowledge {kb.version}: {len(genes)} genes")
    for col in ("gene", "chrom", "positions", "alleles", "calling", "phenotype from"):
        table.add_column(col)
    for r in genes:
        table.add_row(*(str(r[k]) for k in ("gene", "chromosome", "positions", "alleles", "calling", "phenotyping")))
    Console().print(table)
    for s in catalog.sources(kb):
        release = ", ".join(str(x) for x in (s["version"], s["commit"] and f"commit {str(s['commit'])[:12]}") if x)
        Console(highlight=False).print(
            f"source: {s['name']}"
            + (f" ({release})" if release else "")
            + (f", {s['license']}" if s["license"] else ""),
            markup=False,
        )


def _gene_alleles(kb: KnowledgeBase, name: str, as_json: bool) -> None:
    """``pgx genes --alleles GENE``: its named alleles (and, in JSON, the positions that define them)."""
    from pgx.knowledge import catalog

    gene = kb.gene(name)
    rows = catalog.allele_rows(gene)
    if as_json:
        doc = {"gene": gene.gene, "knowledge_version": kb.version, "definition_version": gene.definition_version}
        typer.echo(json.dumps({**doc, "alleles": rows, "positions": catalog.position_rows(gene)}, indent=2))
        return
    table = Table(title=f"{gene.gene} named alleles (knowledge {kb.version})")
    for col in ("allele", "function", "activity", "positions listed", "function from"):
        table.add_column(col)
    for r in rows:
        act = "" if r["activity_value"] is None else f"{r['activity_value']:g}"
        table.add_row(
            str(r["allele"]), str(r["function"] or ""), act, str(r["positions"]), str(r["function_source"] or "")
        )
    Console().print(table)


@app.command("simulate")
def simulate_cmd(
    gene: Annotated[
        list[str] | None, typer.Option("--gene", "-g", help="Gene (repeat, paired with --diplotype)")
    ] = None,
    diplotype: Annotated[list[str] | None, typer.Option("--diplotype", "-d", help="Diplotype, e.g. '*2/*17'")] = None,
    sample: Annotated[str, typer.Option("--sample", help="Sample name")] = "SIMULATED",
    phased: Annotated[
        bool, typer.Option("--phased/--unphased", help="Write phased (|) or unphased (/) genotypes")
    ] = False,
    missing: Annotated[list[int] | None, typer.Option("--missing", help="Position to write as ./. (repeat)")] = None,
    only_listed: Annotated[
        bool,
        typer.Option("--only-listed", help="Write only the listed genes (default: other genes as reference/reference)"),
    ] = False,
    spec: Annotated[Path | None, typer.Option("--spec", help="TSV of sample, gene, diplotype for many samples")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output VCF (.vcf or .vcf.gz)")] = Path("-"),
    index: Annotated[bool, typer.Option("--index", help="bgzip output: also write a tabix index")] = False,
    knowledge: KnowledgeDir = None,
) -> None:
    """Write a VCF carrying chosen diplotypes, built from the knowledge base."""
    from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text

    kb = load_knowledge(str(knowledge) if knowledge else None)
    genes, dips = gene or [], diplotype or []
    if len(genes) != len(dips):
        raise UsageError(f"--gene given {len(genes)} time(s) but --diplotype {len(dips)} time(s); pair them up")
    samples: list[SampleSpec]
    if spec is not None:
        samples = _read_spec(spec)
    else:
        samples = [SampleSpec(sample, [GeneSpec(g, d) for g, d in zip(genes, dips, strict=True)], set(missing or []))]
    text = simulate_vcf_text(kb, samples, phased=phased, include_unlisted=not only_listed)
    if str(output) == "-":
        sys.stdout.write(text)
        return
    _write_vcf(text, output, index)


def _read_spec(path: Path) -> list[SampleSpec]:
    from pgx.simulate.vcf import GeneSpec, SampleSpec

    samples: dict[str, SampleSpec] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LocatedInputError(path, f"cannot read ({exc.strerror})") from None
    for i, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#") or line.lower().startswith("sample\t"):
            continue
        cells = line.split("\t")
        if len(cells) != 3:
            raise LocatedInputError(
                path, f"expected 3 tab-separated columns (sample, gene, diplotype), found {len(cells)}", line=i
            )
        s = samples.setdefault(cells[0], SampleSpec(cells[0]))
        s.genes.append(GeneSpec(cells[1], cells[2]))
    return list(samples.values())


def _write_vcf(text: str, output: Path, index: bool) -> None:
    if str(output).endswith(".gz"):
        import pysam

        plain = output.with_name(f".{output.name}.plain.vcf")
        plain.write_text(text, encoding="utf-8")
        try:
            atomic_write_bytes_from(output, lambda tmp: pysam.tabix_compress(str(plain), tmp, force=True))
        finally:
            plain.unlink(missing_ok=True)
        if index:
            pysam.tabix_index(str(output), preset="vcf", force=True)
    else:
        if index:
            raise UsageError("--index needs a .vcf.gz output")
        atomic_write_text(output, text)


@knowledge_app.command("build")
def knowledge_build(
    source: Annotated[Path, typer.Option("--source", help="Shared data folder holding pharmcat/, pypgx/, panno/")],
    out: Annotated[Path, typer.Option("--out", help="Knowledge folder to write")] = Path("knowledge"),
) -> None:
    """Import source tables into pgx's YAML knowledge base."""
    from pgx.knowledge.importer.build import build_knowledge

    genes = build_knowledge(source, out)
    err.print(f"wrote {len(genes)} genes to {out}/genes and {out}/manifest.yaml")


@knowledge_app.command("validate")
def knowledge_validate(
    path: Annotated[Path | None, typer.Argument(help="Knowledge folder (default: bundled)")] = None,
) -> None:
    """Validate a knowledge folder against the schema (errors as file:line:column)."""
    kb = load_knowledge(str(path) if path else None)
    err.print(f"ok: {len(kb.genes)} genes, knowledge {kb.version}")


@knowledge_app.command("schema")
def knowledge_schema(
    out: Annotated[Path, typer.Option("--out", help="Folder for the JSON Schema files")] = Path("schemas"),
) -> None:
    """Export JSON Schemas for knowledge, rule and rule-test files, and for `pgx call` and `pgx report` output."""
    from pgx.schemas import write_schemas

    for p in write_schemas(out):
        err.print(f"wrote {p}")


app.add_typer(rules_app, name="rules")
app.add_typer(service_app, name="service")
app.command("serve")(serve)
app.add_typer(graph_app, name="graph")
app.add_typer(ml_app, name="ml")
app.command("report")(report)
app.command("batch")(batch)


def main() -> None:
    """Console entry point: run the app, turning every error into one line and an exit code."""
    command = typer.main.get_command(app)
    try:
        # Outside standalone mode click *returns* the code of a typer.Exit instead of raising it.
        code = command.main(args=sys.argv[1:], prog_name="pgx", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PgxError as exc:
        err.print(f"pgx: error: {exc.named(FLAGS)}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (typer.Exit, click.exceptions.Exit) as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        err.print("pgx: aborted", markup=False)
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("pgx: interrupted", markup=False)
        sys.exit(130)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001
        if callable(getattr(exc, "format_message", None)):  # click's usage errors (typer vendors its own click)
            err.print(f"pgx: error: {exc.format_message()}", markup=False, soft_wrap=True)  # type: ignore[attr-defined]
            sys.exit(2)
        _internal_error(exc)


def _internal_error(exc: Exception) -> None:
    """The last line of defence: no tracebacks for users unless they ask."""
    if os.environ.get("PGX_DEBUG"):
        raise exc
    err.print(
        f"pgx: internal error: {type(exc).__name__}: {exc} (set PGX_DEBUG=1 for a traceback; please report)",
        markup=False,
        soft_wrap=True,
    )
    sys.exit(1)
