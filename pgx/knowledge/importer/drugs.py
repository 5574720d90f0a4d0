"""Drug knowledge (``knowledge/drugs.yaml``): PyPGx's CPIC gene–drug table merged with curation.

The table gives ATC codes, RxNorm ids, CPIC/PharmGKB levels, FDA label status, guideline
URLs and PMIDs per gene–drug pair. ``knowledge/drug_curation.yaml`` adds what the table
lacks: each gene's role for the drug (activation, clearance, transport, immune, target),
indications, and alternative drugs that have no pharmacogenomic guideline.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from pgx.errors import ImportSourceError
from pgx.knowledge.curation import Curated, DrugCuration
from pgx.knowledge.schema import Drug, DrugKnowledge, GuidelineLink
from pgx.yamlio import FlowList, dump_yaml

CPIC_TABLE = "pypgx/cpic-table.csv"
_ATC = re.compile(r"^[A-Z]\d\d[A-Z]{2}\d\d$")  # a full (level 5) ATC code; the table also holds "NA" and classes


def _split(text: str, sep: str) -> list[str]:
    return [t.strip() for t in text.split(sep) if t.strip()]


def cpic_table(data: Path) -> dict[str, dict[str, Any]]:
    """Drug (lowercase) -> {rxnorm, atc, guidelines, genes} from PyPGx's CPIC gene-drug table."""
    table: dict[str, dict[str, Any]] = {}
    try:
        with (data / CPIC_TABLE).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ImportSourceError(f"{data / CPIC_TABLE}: cannot read ({exc.strerror})") from None
    for r in rows:
        d = table.setdefault(
            r["Drug"].lower(), {"rxnorm": r["RxNorm"] or None, "atc": [], "guidelines": [], "genes": set()}
        )
        for code in _split(r["ATC"], ","):
            if _ATC.match(code) and code not in d["atc"]:
                d["atc"].append(code)
        d["genes"].add(r["Gene"])
        d["guidelines"].append(
            GuidelineLink(
                gene=r["Gene"],
                cpic_level=r["CPICLevel"] or None,
                pharmgkb_level=r["PharmGKBLevel"] or None,
                fda_label=r["FDALabel"] or None,
                url=r["Guideline"] or None,
                pmids=_split(r["PMID"], ";"),
            )
        )
    return table


def check_drug_curation(curation: Curated[DrugCuration], table: dict[str, dict[str, Any]], genes: set[str]) -> None:
    """Every curated entry must match the tables: declared, used indications; known drugs and genes."""
    cur = curation.value
    declared: dict[str, int] = {}
    for i, ind in enumerate(cur.indications):
        if ind.id in declared:
            raise curation.error_at(("indications", i, "id"), f"indication {ind.id!r} is declared twice")
        declared[ind.id] = i
    used: set[str] = set()
    for name, drug in cur.drugs.items():
        where = ("drugs", name)
        if name != name.lower():
            raise curation.error_at(
                where, "drug keys are lowercase generic names, as the tables spell them", at_key=True
            )
        for j, ind_id in enumerate(drug.indications):
            if ind_id not in declared:
                raise curation.error_at((*where, "indications", j), f"indication {ind_id!r} is not declared")
        used.update(drug.indications)
        base = table.get(name)
        if base is None and not drug.atc:
            raise curation.error_at(
                where,
                f"not in {CPIC_TABLE}: a drug the table lacks needs its ATC codes (atc); is the name misspelt?",
                at_key=True,
            )
        if base is not None and base["atc"] and drug.atc:
            raise curation.error_at(
                (*where, "atc"), f"{CPIC_TABLE} gives this drug's ATC codes; these would be ignored", at_key=True
            )
        seen: set[str] = set()
        for k, p in enumerate(drug.pathways):
            if p.gene in seen:
                raise curation.error_at((*where, "pathways", k, "gene"), f"{p.gene} has two pathways for this drug")
            seen.add(p.gene)
            if p.gene not in genes and (base is None or p.gene not in base["genes"]):
                raise curation.error_at(
                    (*where, "pathways", k, "gene"),
                    f"{p.gene} is not a pgx gene, nor paired with this drug in the table",
                )
    for ind_id, i in declared.items():
        if ind_id not in used:
            raise curation.error_at(("indications", i, "id"), f"no drug names indication {ind_id!r}")


def build_drugs(data: Path, curation: Curated[DrugCuration], genes: set[str]) -> DrugKnowledge:
    """The table's drugs plus the curated ones; ``genes`` are those the knowledge base defines."""
    table = cpic_table(data)
    check_drug_curation(curation, table, genes)
    curated = curation.value.drugs
    drugs = []
    for name in sorted(set(table) | set(curated)):
        base = table.get(name, {"rxnorm": None, "atc": [], "guidelines": []})
        cur = curated.get(name)
        atc = base["atc"] or (list(cur.atc) if cur else [])
        drugs.append(
            Drug(
                name=name,
                rxnorm=base["rxnorm"],
                atc=atc,
                classes=sorted({c[:5] for c in atc if len(c) >= 5}),
                indications=list(cur.indications) if cur else [],
                pathways=list(cur.pathways) if cur else [],
                guidelines=base["guidelines"],
            )
        )
    return DrugKnowledge(drugs=drugs)


def drugs_to_yaml(dk: DrugKnowledge) -> str:
    data = dk.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"schema_version": dk.schema_version, **data}
    for d in data["drugs"]:
        for key in ("atc", "classes", "indications"):
            if key in d:
                d[key] = FlowList(d[key])
        for g in d.get("guidelines", []):
            if "pmids" in g:
                g["pmids"] = FlowList(g["pmids"])
    header = (
        "Drug knowledge generated by `pgx knowledge build` from PyPGx's CPIC gene-drug table and\n"
        "knowledge/drug_curation.yaml (pathway roles, indications, alternatives). Edit the curation file."
    )
    return dump_yaml(data, header=header)
