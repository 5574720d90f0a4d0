"""`pgx rules ...`: build, validate, test and diff the rule base (for curators)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from pgx.cli.common import KnowledgeDir

if TYPE_CHECKING:
    from pgx.knowledge.loader import KnowledgeBase

rules_app = typer.Typer(help="Build, validate, test and diff the recommendation rules.", no_args_is_help=True)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)


def _knowledge(path: Path | None) -> KnowledgeBase:
    from pgx.knowledge.loader import load_knowledge

    return load_knowledge(str(path) if path else None)


def _knowledge_dir(path: Path | None) -> Path:
    """The knowledge folder in use: ``--knowledge``, else the bundled one (wherever the command runs from)."""
    if path is not None:
        return path
    import importlib.resources

    try:
        return Path(str(importlib.resources.files("pgx.knowledge_base")))
    except ModuleNotFoundError:  # a source checkout shadowing the installed package, as in load_knowledge
        return Path(__file__).resolve().parents[2] / "knowledge"


def _bundled_rules_dir() -> Path:
    from pgx.rules.loader import load_rules

    rb = load_rules()
    return Path(rb.location) if Path(rb.location).is_dir() else Path(__file__).resolve().parents[2] / "rules"


@rules_app.command("build")
def build(
    source: Annotated[Path, typer.Option("--source", help="Shared data folder holding pypgx/ and panno/")],
    out_dir: Annotated[Path, typer.Option("--out", help="Rules folder to write")] = Path("rules"),
    knowledge: KnowledgeDir = None,
) -> None:
    """Import the guideline tables into rules/<drug>.yaml (merging rules/curation.yaml and rules/overrides*.yaml)."""
    # imported when the command runs, as everywhere in the CLI, so that `pgx` starts without them
    from pgx.rules.curation import load_curation
    from pgx.rules.importer import build_rules, load_roles, write_rules

    curation = load_curation(out_dir)
    kb = _knowledge(knowledge)
    roles = load_roles(_knowledge_dir(knowledge) / "drug_curation.yaml")
    files, log, _ = build_rules(kb, source, curation, roles)
    write_rules(out_dir, files, curation, source)
    err.print(f"wrote {sum(len(f.rules) for f in files.values())} rules for {len(files)} drugs to {out_dir}/")
    for row, why in log.unmapped:
        err.print(f"  not imported: {row.table} {row.row_id} ({row.source} {row.drug}): {why}")
    for c in log.conflicts:
        err.print(f"  conflict: {c}")


@rules_app.command("validate")
def validate(
    path: Annotated[Path | None, typer.Argument(help="Rules folder (default: bundled)")] = None,
    knowledge: KnowledgeDir = None,
    gaps: Annotated[bool, typer.Option("--gaps/--no-gaps", help="Also list uncovered phenotypes (warnings)")] = False,
) -> None:
    """Check rules: schema (file:line:column), names against knowledge/, conflicting rules, coverage gaps."""
    from pgx.rules.curator import validate_folder

    root = path or _bundled_rules_dir()
    rep = validate_folder(_knowledge(knowledge), root)
    for p in rep.errors:
        out.print(str(p), markup=False)
    if gaps:
        for p in rep.warnings:
            out.print(str(p), markup=False)
    summary = f"{rep.files} files, {rep.rules} rules: {len(rep.errors)} error(s), {len(rep.warnings)} gap warning(s)"
    err.print(summary, markup=False)
    if rep.errors:
        raise typer.Exit(2)


@rules_app.command("test")
def test(
    path: Annotated[Path | None, typer.Argument(help="Rules folder (default: bundled)")] = None,
    knowledge: KnowledgeDir = None,
) -> None:
    """Run the rule test cases in <rules>/tests/*.yaml."""
    from pgx.rules.curator import load_tests, run_tests
    from pgx.rules.loader import load_rules

    root = path or _bundled_rules_dir()
    rb = load_rules(str(root))
    tests, docs = load_tests(root)
    results = run_tests(_knowledge(knowledge), rb, tests, docs)
    failed = [r for r in results if not r.passed]
    for r in failed:
        out.print(f"{r.path}:{r.line or ''}: FAIL {r.name}: {r.detail}", markup=False)
    err.print(f"{len(results) - len(failed)} passed, {len(failed)} failed", markup=False)
    if failed:
        raise typer.Exit(1)


@rules_app.command("coverage")
def coverage_cmd(
    source: Annotated[Path, typer.Option("--source", help="Shared data folder holding pypgx/ and panno/")],
    path: Annotated[Path | None, typer.Argument(help="Rules folder (default: bundled)")] = None,
    knowledge: KnowledgeDir = None,
    show: Annotated[
        bool, typer.Option("--list/--no-list", help="List every row not decided by exactly one rule")
    ] = True,
) -> None:
    """How many CPIC/DPWG guideline rows the rule base decides with exactly one rule."""
    from pgx.rules.coverage import coverage
    from pgx.rules.importer import SOURCES
    from pgx.rules.loader import load_rules

    root = path or _bundled_rules_dir()
    rep = coverage(_knowledge(knowledge), load_rules(str(root)), source)
    if show:
        for rc in rep.problems():
            out.print(
                f"{rc.row.table} {rc.row.row_id} ({rc.row.source} {rc.row.drug}): {rc.status}: {rc.reason}"
                + (f" [{', '.join(rc.rule_ids)}]" if rc.rule_ids else ""),
                markup=False,
            )
    for src in SOURCES:
        c = rep.counts(src)
        total = sum(c.values())
        others = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(c.items()) if k != "one_rule")
        out.print(
            f"{src}: {c['one_rule']}/{total} rows map to exactly one rule" + (f" ({others})" if others else ""),
            markup=False,
        )


@rules_app.command("diff")
def diff(
    old: Annotated[Path, typer.Argument(help="Old rules folder")],
    new: Annotated[Path, typer.Argument(help="New rules folder")],
    vcf: Annotated[Path | None, typer.Option("--vcf", help="Also compare outcomes for the samples of this VCF")] = None,
    knowledge: KnowledgeDir = None,
) -> None:
    """Rules added/removed/changed, and which phenotype combinations (or samples) get a different action."""
    from pgx.rules.curator import action_changes, rule_changes, sample_changes
    from pgx.rules.loader import load_rules

    kb = _knowledge(knowledge)
    a, b = load_rules(str(old)), load_rules(str(new))
    changes = rule_changes(a, b)
    for c in changes:
        out.print(f"{c.kind:8} {c.rule_id}" + (f"  ({', '.join(c.fields)})" if c.fields else ""), markup=False)
    drugs = {c.drug for c in changes}
    for ac in action_changes(kb, a, b, drugs):
        out.print(f"outcome  {ac.drug}: {ac.who}: {ac.old} -> {ac.new}", markup=False)
    if vcf is not None:
        from pgx import api
        from pgx.patient.conversion import apply_medications
        from pgx.patient.state import patient_state

        report = api.call(vcf, knowledge=kb)
        states = [apply_medications(kb, patient_state(s.sample, s.genes)) for s in report.samples]
        for ac in sample_changes(a, b, states, drugs or set(a.drugs) | set(b.drugs)):
            out.print(f"sample   {ac.who}: {ac.drug}: {ac.old} -> {ac.new}", markup=False)
    err.print(f"{len(changes)} rule change(s)", markup=False)


@rules_app.command("list")
def list_drugs() -> None:
    """Drugs with rules, and the sources covering each."""
    from pgx.rules.loader import load_rules

    rb = load_rules()
    for drug in rb.drugs:
        sources = sorted({r.source for r in rb.rules_for(drug)})
        out.print(f"{drug}\t{', '.join(sources)}\t{len(rb.rules_for(drug))} rules", markup=False)
    err.print(f"rules {rb.version}: {len(rb.drugs)} drugs", markup=False)
