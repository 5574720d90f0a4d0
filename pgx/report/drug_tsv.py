"""Drug-report TSV for pipelines: one row per sample and drug, the flag and what decided it."""

from __future__ import annotations

from pgx.flags.models import DrugFlag
from pgx.report.calls_tsv import clean_cell, provenance_line
from pgx.report.models import DrugReport
from pgx.rules.outcome import SourceOutcome
from pgx.rules.schema import ACTION_SEVERITY

COLUMNS = [
    "sample", "drug", "level", "action", "dose_factor", "ambiguous", "genes", "results", "sources", "rule_ids",
    "alternatives", "phenoconversion", "reason", "sample_warnings",
]  # fmt: skip


def _dose(flag: DrugFlag) -> str:
    """Dose of the first rule (CPIC first) giving the drug's action; a range as low-high."""
    for s in sorted(flag.sources, key=lambda s: s.source != "CPIC"):
        for sc in s.scenarios:
            for r in sc.rules:
                if r.action == flag.action:
                    if r.dose_factor_range:
                        return f"{r.dose_factor_range[0]:g}-{r.dose_factor_range[1]:g}"
                    if r.dose_factor is not None:
                        return f"{r.dose_factor:g}"
    return ""


def _source_label(flag: DrugFlag, source: str, genes: list[str]) -> str:
    """DPWG may give one recommendation per gene: name the gene when the source repeats."""
    repeated = sum(s.source == source for s in flag.sources) > 1
    return f"{source}({'+'.join(genes)})" if repeated else source


def _source_action(s: SourceOutcome) -> str:
    """An ambiguous source lists every action its tied results lead to, worst first."""
    if s.status != "ambiguous":
        return s.action or s.status
    acts = sorted({r.action for sc in s.scenarios for r in sc.rules}, key=lambda a: ACTION_SEVERITY[a])
    if any(not sc.rules for sc in s.scenarios):
        acts.append("no_rule")
    return f"ambiguous({'|'.join(acts)})"


def drug_row(sample: str, flag: DrugFlag, warnings: str) -> list[str]:
    results = dict.fromkeys(f"{g}: {v}" for s in flag.sources for sc in s.scenarios for g, v in sc.genes.items())
    converted = [r for r in results if "[converted from" in r]
    reasons = [f"{s.source}: {s.reason}" for s in flag.sources if s.reason] + list(flag.notes)
    reasons += [n for n in flag.not_assessed if not flag.sources]
    return [
        clean_cell(sample),
        flag.drug,
        flag.level,
        flag.action or "",
        _dose(flag),
        "yes" if flag.ambiguous else "no",
        ", ".join(flag.genes),
        clean_cell(" | ".join(results)),
        ", ".join(_source_label(flag, s.source, s.genes) + f"={_source_action(s)}" for s in flag.sources),
        ", ".join(dict.fromkeys(r.rule_id for s in flag.sources for sc in s.scenarios for r in sc.rules)),
        ", ".join(flag.alternatives),
        clean_cell("; ".join(converted)),
        clean_cell("; ".join(reasons)),
        warnings,
    ]


def render_drug_tsv(report: DrugReport) -> str:
    head = provenance_line(
        pgx=report.pgx_version,
        knowledge=report.knowledge_version,
        rules=report.rules_version,
        input=report.input.name,
        sha256=report.input.sha256,
        schema=report.schema_version,
    )
    lines = [head, "\t".join(COLUMNS)]
    for s in report.samples:
        warnings = clean_cell("; ".join(s.medication_warnings))
        lines += ["\t".join(drug_row(s.sample, d, warnings)) for d in s.drugs]
    return "\n".join(lines) + "\n"
