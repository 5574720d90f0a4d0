"""Calls-only TSV: one row per sample and gene, the reference tool's core columns plus status/reason."""

from __future__ import annotations

from pgx.calling.models import CallReport, DiplotypeCall, GeneCall

COLUMNS = [
    "sample", "gene", "status", "source", "diplotype", "phenotype", "activity_score",
    "haplotype_1", "haplotype_1_function", "haplotype_1_activity_value",
    "haplotype_2", "haplotype_2_function", "haplotype_2_activity_value",
    "match_score", "phased", "missing_positions", "reason", "warnings",
]  # fmt: skip

ALT_SEP = " OR "


def clean_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _hap_field(dips: list[DiplotypeCall], k: int, attr: str) -> str:
    vals = []
    for d in dips:
        if k < len(d.haplotypes):
            v = getattr(d.haplotypes[k], attr)
            vals.append(clean_cell(v))
        else:
            vals.append("")
    uniq = list(dict.fromkeys(vals))
    return ALT_SEP.join(uniq) if any(uniq) else ""


def gene_row(sample: str, g: GeneCall) -> list[str]:
    d = g.diplotypes
    scores = [str(x.score) for x in d if x.score is not None]
    return [
        clean_cell(sample),
        g.gene,
        g.status,
        g.source,
        ALT_SEP.join(x.name for x in d),
        ALT_SEP.join(g.phenotypes),
        ALT_SEP.join(f"{a:g}" for a in g.activity_scores),
        _hap_field(d, 0, "label"),
        _hap_field(d, 0, "function"),
        _hap_field(d, 0, "activity_value"),
        _hap_field(d, 1, "label"),
        _hap_field(d, 1, "function"),
        _hap_field(d, 1, "activity_value"),
        ALT_SEP.join(dict.fromkeys(scores)),
        "yes" if g.phased else "no",
        ", ".join(str(m.position) for m in g.missing_positions),
        clean_cell(g.reason),
        clean_cell("; ".join(w.message for w in g.warnings)),
    ]


def provenance_line(**fields: object) -> str:
    """The TSV's first line: what produced it and from which input, so a row can be reproduced.
    Values are cleaned like cells: a tab in a file name must not shift the fields."""
    return "# " + "\t".join(f"{name} {clean_cell(value)}" for name, value in fields.items())


def render_tsv(report: CallReport) -> str:
    head = provenance_line(
        pgx=report.pgx_version,
        knowledge=report.knowledge_version,
        input=report.input.name,
        sha256=report.input.sha256,
        schema=report.schema_version,
    )
    lines = [head, "\t".join(COLUMNS)]
    for s in report.samples:
        for g in s.genes:
            lines.append("\t".join(gene_row(s.sample, g)))
    return "\n".join(lines) + "\n"
