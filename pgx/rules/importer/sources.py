"""The source tables, read into rows: which rows there are, and which ones rules are built from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pgx.knowledge.importer.sources import read_csv
from pgx.rules.curation import RulesCurationFile
from pgx.rules.importer.conditions import ACTIVITY
from pgx.rules.schema import Citation

PYPGX_TABLE = "pypgx/recommendation-table.csv"
PANNO_TABLE = "panno/guidelines.tsv"
CPIC_TABLE = "pypgx/cpic-table.csv"
SOURCES = ("CPIC", "DPWG")


@dataclass
class SourceRow:
    table: str
    row_id: str
    source: str
    drug: str
    genes: list[tuple[str, str, str]]  # (gene, phenotype text, genotype text)
    text: str
    annotation: str | None = None


def _clean(text: str | None) -> str:
    return (text or "").strip().strip('"').strip()


def read_source_rows(data: Path) -> list[SourceRow]:
    """All CPIC/DPWG recommendation rows, in table order."""
    rows: list[SourceRow] = []
    for i, r in enumerate(read_csv(data / PYPGX_TABLE), start=2):
        genes = [(r["Gene1"], r["Phenotype1"], "")]
        if r["Gene2"] not in ("None", ""):
            genes.append((r["Gene2"], r["Phenotype2"], ""))
        rows.append(SourceRow(PYPGX_TABLE, f"line {i}", "CPIC", r["Drug"].lower(), genes, _clean(r["Recommendation"])))
    for r in read_csv(data / PANNO_TABLE, "\t"):
        if r["Source"] not in SOURCES:
            continue
        rows.append(
            SourceRow(
                PANNO_TABLE,
                f"ID {r['ID']}",
                r["Source"],
                r["Drug"].lower(),
                [(r["Gene"], _clean(r["Phenotype"]), _clean(r["Genotype"]))],
                _clean(r["Recommendation"]),
                annotation=r["PAID"] or None,
            )
        )
    return rows


def read_citations(data: Path) -> dict[tuple[str, str], Citation]:
    """(drug, gene) -> the CPIC guideline's citation, from PyPGx's CPIC gene-drug table."""
    out: dict[tuple[str, str], Citation] = {}
    for r in read_csv(data / CPIC_TABLE):
        pmids = [p for p in r["PMID"].split(";") if p.strip()]
        out[(r["Drug"].lower(), r["Gene"])] = Citation(pmids=pmids, url=r["Guideline"] or None)
    return out


def excluded_rows(curation: RulesCurationFile) -> dict[tuple[str, str], str]:
    """(table, row) -> why the curators left a source row out (e.g. a row attributed to the wrong guideline)."""
    return {(e.table, e.row): e.reason for e in curation.excluded_rows}


def imported_rows(rows: list[SourceRow]) -> list[SourceRow]:
    """The rows rules are built from: CPIC from PyPGx's table where it has the drug, else PharmGKB's.

    PyPGx's CPIC table keys CYP2C9 and DPYD by phenotype only; PharmGKB's rows for the same
    guidelines split Intermediate/Poor by activity score (meloxicam at score 1 halves the dose,
    at 1.5 it does not). Those score-keyed rows are imported too and win by specificity.
    """
    pypgx_drugs = {r.drug for r in rows if r.table == PYPGX_TABLE}
    return [
        r
        for r in rows
        if r.table == PYPGX_TABLE
        or r.source == "DPWG"
        or r.drug not in pypgx_drugs
        or any(ACTIVITY.match(geno) for _, _, geno in r.genes)
    ]
