"""``pgx rules build``: guideline tables -> ``rules/<drug>.yaml`` in pgx's rule schema.

Sources: PyPGx's CPIC recommendation table (one row per drug and phenotype combination, two
genes where CPIC combines them), PAnno's guideline table (CPIC and DPWG rows from PharmGKB),
and PyPGx's CPIC gene–drug table for citations. For each drug, CPIC rules come from the PyPGx
table when it has the drug (it carries CPIC's multi-gene combinations), otherwise from PAnno;
DPWG rules come from PAnno. Each row's phenotype text is mapped onto pgx's knowledge; its
recommendation becomes an action from a fixed vocabulary, a dose fraction when one is
stated, alternatives, and a rationale written by pgx (no guideline prose is copied).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgx.knowledge.importer.sources import read_csv
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import Gene
from pgx.naming import allele_key
from pgx.rules.schema import (
    ACTION_SEVERITY,
    AlleleStatus,
    Citation,
    GeneCondition,
    LookupRule,
    Provenance,
    RuleFile,
    ScoreRange,
    WarfarinDosingRule,
)
from pgx.yamlio import load_marked

PYPGX_TABLE = "pypgx/recommendation-table.csv"
PANNO_TABLE = "panno/guidelines.tsv"
CPIC_TABLE = "pypgx/cpic-table.csv"
SOURCES = ("CPIC", "DPWG")
WARFARIN_GENES = {"CYP4F2", "VKORC1", "-"}


@dataclass
class SourceRow:
    table: str
    row_id: str
    source: str
    drug: str
    genes: list[tuple[str, str, str]]  # (gene, phenotype text, genotype text)
    text: str
    annotation: str | None = None


@dataclass
class ImportLog:
    unmapped: list[tuple[SourceRow, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


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


# ----------------------------------------------------------------------------- conditions

_HLA = re.compile(r"(HLA-[AB])\*(\d+:\d+)\s+(positive|negative)", re.I)
_ACTIVITY = re.compile(r"^(?:Activity Score|DPD AS|AS)\s*([\d.]+)$", re.I)
_DIPLOTYPE = re.compile(r"^\*\w+/\*\w+$")
_RS_GENOTYPE = re.compile(r"^(rs\d+)\s+([ACGT])([ACGT])$")


class ConditionMapper:
    """Maps a source's (gene, phenotype, genotype) wording onto pgx knowledge."""

    def __init__(self, kb: KnowledgeBase, curation: dict[str, Any]) -> None:
        self.kb = kb
        self.aliases: dict[str, dict[str, dict[str, Any]]] = curation.get("phenotype_aliases", {}) or {}
        self.prefixes: dict[str, dict[str, dict[str, Any]]] = curation.get("phenotype_prefixes", {}) or {}
        self.not_covered = set(curation.get("not_covered_genes", []))
        self.likely_sources = set(curation.get("likely_phenotypes_for", []))

    def phenotypes(self, gene: Gene) -> set[str]:
        ph = gene.phenotyping
        out = {r.phenotype for r in ph.function_pairs} | {r.phenotype for r in ph.score_ranges}
        out |= set(ph.haplotype_phenotypes.values())
        out.add(ph.indeterminate)
        return out

    def _known(self, gene: Gene, text: str) -> list[str] | None:
        by_lower = {p.lower(): p for p in self.phenotypes(gene)}
        parts = [p.strip() for p in re.split(r";\s*", text) if p.strip()]
        found = [by_lower.get(p.lower()) for p in parts]
        return found if parts and all(found) else None  # type: ignore[return-value]

    def _single_variant(self, gene: Gene, genotypes: list[str]) -> list[str] | None:
        """'rs9923231 CT' -> the diplotype name of the two alleles carrying C and T."""
        if len(gene.positions) != 1:
            return None
        pos = gene.positions[0].position
        by_base = {a.alleles[pos]: a for a in gene.named_alleles if pos in a.alleles}
        out = []
        for g in genotypes:
            m = _RS_GENOTYPE.match(g.strip())
            if not m or m.group(2) not in by_base or m.group(3) not in by_base:
                return None
            pair = sorted((by_base[m.group(2)], by_base[m.group(3)]), key=lambda a: allele_key(a.name, a.reference))
            out.append("/".join(a.name for a in pair))
        return out

    def map(self, gene_name: str, phenotype: str, genotype: str, source: str = "CPIC") -> list[GeneCondition] | str:
        """Conditions for one source gene column, or a reason it cannot be mapped."""
        if gene_name in self.not_covered:
            return f"gene {gene_name} is not covered by pgx"
        if phenotype == "None":
            return [GeneCondition(gene=gene_name, not_tested=True)]
        hla = _HLA.findall(phenotype)
        if hla:
            return [
                GeneCondition(
                    gene=g.upper(), allele_status=AlleleStatus(allele=f"*{a}", positive=s.lower() == "positive")
                )
                for g, a, s in hla
            ]
        if gene_name not in self.kb.genes:
            return f"gene {gene_name} is not in the knowledge base"
        gene = self.kb.gene(gene_name)
        alias = (self.aliases.get(gene_name) or {}).get(phenotype)
        if alias is None:
            for prefix, crit in (self.prefixes.get(gene_name) or {}).items():
                if phenotype.startswith(prefix):
                    alias = crit
        if alias is not None:
            return [GeneCondition(gene=gene_name, **alias)]
        m = _ACTIVITY.match(phenotype) or _ACTIVITY.match(genotype)
        if m and gene.phenotyping.method == "activity_score":
            score = float(m.group(1))
            return [GeneCondition(gene=gene_name, activity_score=ScoreRange(min=score, max=score))]
        if genotype.startswith("rs"):
            dips = self._single_variant(gene, re.split(r";\s*", genotype))
            if dips:
                return [GeneCondition(gene=gene_name, diplotypes=dips)]
        dips = [d.strip() for d in re.split(r"\s+or\s+|;\s*", phenotype)]
        if all(_DIPLOTYPE.match(d) for d in dips):
            names = {a.name for a in gene.named_alleles}
            unknown = [h for d in dips for h in d.split("/") if h not in names]
            if unknown:
                return f"{gene_name} alleles {unknown} are not in the knowledge base"
            return [GeneCondition(gene=gene_name, diplotypes=dips)]
        known = self._known(gene, phenotype)
        if known:
            if source in self.likely_sources:
                likely = {p.lower(): p for p in self.phenotypes(gene) if p.startswith("Likely ")}
                known += [likely[f"likely {p.lower()}"] for p in known if f"likely {p.lower()}" in likely]
            return [GeneCondition(gene=gene_name, phenotypes=known)]
        return f"{gene_name} phenotype {phenotype!r} matches nothing in the knowledge base"


# ------------------------------------------------------------------------------- actions

_DOSE_WORDS = r"(?:starting |initial |maintenance |daily |standard |recommended )*"
_ACTIONS: list[tuple[str, re.Pattern[str]]] = [
    (
        "contraindicated",
        re.compile(
            r"contra-?indicat|do not (use|prescribe|administer)|should not be (used|prescribed|given)"
            r"|must not be",
            re.I,
        ),
    ),
    (
        "avoid",
        re.compile(  # "not recommended" is CPIC's wording for ineffective as well as unsafe
            r"(is|are) not recommended|\bavoid\b|\balternative\b|not be used|discontinue|refrain from|"
            r"select a (different|non)",
            re.I,
        ),
    ),
    (
        "reduce_dose",
        re.compile(
            rf"reduc\w* (the )?{_DOSE_WORDS}dose|dose reduction|reduce by|\d+\s*%\s*(reduction|less|lower)|"
            r"\d+\s*%\s*(?:-|to)?\s*\d*\s*%? of (the )?(lowest )?"
            r"(standard|normal|usual|typical|recommended|initial|starting|original)|"
            rf"decreas\w* (the )?{_DOSE_WORDS}dose|lower (starting |initial )?dose|drastically reduced|"
            r"reduced (starting |initial )?doses?|start with \d+\s*%|prescribe\s*(≤|<=)\s*\d+\s*mg|"
            r"do not (exceed|give doses exceeding)|maximum (daily )?dose of",
            re.I,
        ),
    ),
    (
        "increase_dose",
        re.compile(
            rf"increase (the )?{_DOSE_WORDS}dose|higher (starting |target |initial )?dose|\d+(\.\d+)?\s*(times|x) the|"
            r"\d+(\.\d+)?\s*x higher|\d+-fold higher|double the dose|titrat\w* to a higher",
            re.I,
        ),
    ),
    (
        "standard_dosing",
        re.compile(
            r"standard (starting |daily |starting daily )?dos|label[- ]recommended|normal (starting )?dose|"
            r"recommended (starting|standard) dose|"
            r"no (action|adjustment|dose adjustment|change|indication to change)|typical (initial|dosing|dose)|"
            r"desired starting dose|usual dose|per standard|"
            r"(use|initiate) [\w/ -]*(per|at|with) (the )?(standard|recommended)|"
            r"according to the (product )?label|standard of care dosing|no reason to|"
            r"without an increase in the (incidence of )?side effects|negligible effect|"
            r"no (significant )?effect on",
            re.I,
        ),
    ),
    ("monitor", re.compile(r"\bmonitor|therapeutic drug monitoring|\bTDM\b|be alert to", re.I)),
    (
        "insufficient_evidence",
        re.compile(
            r"insufficient|no (data|evidence)|no recommendation|cannot be (made|given)|could not be assigned", re.I
        ),
    ),
]
# Conditional mentions of a contraindication are about something else ("if no contraindication").
_CONDITIONAL = re.compile(
    r"if no contra-?indications?|unless contra-?indicated|absence of contra-?indications?|"
    r"if [^.;]*? (is|are) contra-?indicated",
    re.I,
)


def classify_action(text: str) -> str:
    """The action the recommendation leads with.

    Guideline texts state their main recommendation first and qualify it afterwards
    ("Avoid ... if possible. Use prasugrel ... if no contraindication"), so the earliest
    action phrase wins; ties go to the more severe action.
    """
    body = _CONDITIONAL.sub(" ", text.strip())
    if body.lower().rstrip(".") in ("", "none", "n/a", "no recommendation"):
        return "insufficient_evidence"
    hits = []
    for rank, (action, pattern) in enumerate(_ACTIONS):
        m = pattern.search(body)
        if m:
            hits.append((m.start(), rank, action))
    if hits:
        return min(hits)[2]
    if re.search(r"genetic variation|gene variation", body, re.I):
        return "standard_dosing"  # DPWG's descriptive texts with no advice mean "no action needed"
    return "insufficient_evidence"


def dose_fraction(text: str) -> tuple[float | None, list[float] | None]:
    """(fraction of standard dose, [low, high] when a range) stated in a recommendation."""
    t = text.replace("–", "-")
    m = re.search(
        r"(\d+)\s*%?\s*(?:-|to)\s*(\d+)\s*% of (?:the )?(?:lowest )?"
        r"(?:normal|standard|usual|typical|recommended)",
        t,
        re.I,
    )
    if m:
        lo, hi = int(m.group(1)) / 100, int(m.group(2)) / 100
        return None, [lo, hi]
    m = re.search(r"(\d+(?:\.\d+)?)\s*(?:to|-)\s*(\d+(?:\.\d+)?)\s*times", t, re.I)
    if m:
        return None, [float(m.group(1)), float(m.group(2))]
    for pattern in (r"reduc\w*[^.%]*?\bby\s*(\d+)\s*%", r"(\d+)\s*%\s*reduction", r"(\d+)\s*%\s*(?:less|lower)"):
        m = re.search(pattern, t, re.I)
        if m:
            return round(1 - int(m.group(1)) / 100, 4), None
    m = re.search(
        r"(\d+)\s*% of (?:the )?(?:lowest )?"
        r"(?:standard|normal|usual|typical|recommended|initial|starting|original)",
        t,
        re.I,
    )
    if m:
        return int(m.group(1)) / 100, None
    m = re.search(r"(\d+(?:\.\d+)?)\s*times the", t, re.I)
    if m:
        return float(m.group(1)), None
    m = re.search(r"(?:reduc|lower|decreas)\w*[^.]*?\b(\d+)-fold", t, re.I)
    if m:
        return round(1 / int(m.group(1)), 4), None
    if re.search(r"double the dose", t, re.I):
        return 2.0, None
    return None, None


# ----------------------------------------------------------------------------- rationale

_REDUCED = re.compile(r"poor|intermediate|decreased|deficient|reduced|susceptib|unfavorable", re.I)
_INCREASED = re.compile(r"rapid|increased", re.I)

_ACTION_WORDS = {
    "contraindicated": "do not use",
    "avoid": "use an alternative",
    "reduce_dose": "start at a reduced dose",
    "increase_dose": "a higher dose may be needed",
    "monitor": "monitor drug levels or response",
    "standard_dosing": "standard dosing",
    "insufficient_evidence": "no recommendation can be made from this result",
}


def describe_condition(c: GeneCondition) -> str:
    if c.not_tested:
        return f"{c.gene} not tested"
    if c.allele_status is not None:
        return f"{c.gene}{c.allele_status.allele} {'positive' if c.allele_status.positive else 'negative'}"
    if c.activity_score is not None:
        lo, hi = c.activity_score.min, c.activity_score.max
        return f"{c.gene} activity score {lo:g}" if lo == hi else f"{c.gene} activity score {lo}–{hi}"
    if c.diplotypes is not None:
        return f"{c.gene} {' or '.join(c.diplotypes)}"
    return f"{c.gene} {' or '.join(c.phenotypes or [])}"


def _mechanism(drug: str, c: GeneCondition, role: str | None) -> str | None:
    if c.not_tested or role is None:
        return None
    if c.allele_status is not None:
        return "carriers have a high risk of severe hypersensitivity" if c.allele_status.positive else None
    text = " ".join(c.phenotypes or c.diplotypes or [])
    if c.activity_score is not None and c.activity_score.max is not None and c.activity_score.max < 2:
        text = "reduced"
    reduced, increased = bool(_REDUCED.search(text)), bool(_INCREASED.search(text))
    if role == "activation":
        return (
            f"less {drug} is converted to its active form"
            if reduced
            else f"more active metabolite of {drug} forms"
            if increased
            else None
        )
    if role in ("clearance_major", "clearance_minor"):
        return (
            f"{drug} is cleared more slowly, so exposure rises"
            if reduced
            else f"{drug} is cleared faster, so exposure falls"
            if increased
            else None
        )
    if role == "transport":
        return f"reduced transport raises {drug} exposure" if reduced else None
    if role == "target":
        return f"the pathway {drug} acts on is altered" if reduced or increased else None
    return None


def rationale(
    drug: str,
    source: str,
    conditions: list[GeneCondition],
    action: str,
    dose: float | None,
    roles: dict[tuple[str, str], str],
) -> str:
    """pgx's own short wording: the result, why it matters for this drug, what the guideline says."""
    who = " and ".join(describe_condition(c) for c in conditions)
    why = list(dict.fromkeys(m for c in conditions if (m := _mechanism(drug, c, roles.get((drug, c.gene))))))
    what = _ACTION_WORDS[action]
    if dose is not None and action == "reduce_dose":
        what += f" (about {dose:.0%} of standard)"
    return f"{who}: {'; '.join(why) + '. ' if why else ''}{source}: {what}."


# -------------------------------------------------------------------------------- builder


def _slug(c: GeneCondition) -> str:
    return re.sub(r"[^a-z0-9*:.]+", "-", describe_condition(c).lower()).strip("-")


@dataclass
class Builder:
    kb: KnowledgeBase
    data: Path
    curation: dict[str, Any]
    roles: dict[tuple[str, str], str]
    log: ImportLog = field(default_factory=ImportLog)

    def __post_init__(self) -> None:
        self.mapper = ConditionMapper(self.kb, self.curation)
        self.citations = self._citations()
        self.known_drugs = {d for d in self.citations_drugs} | {d for d, _ in self.roles}

    def _citations(self) -> dict[tuple[str, str], Citation]:
        out: dict[tuple[str, str], Citation] = {}
        self.citations_drugs: set[str] = set()
        for r in read_csv(self.data / CPIC_TABLE):
            drug = r["Drug"].lower()
            self.citations_drugs.add(drug)
            pmids = [p for p in r["PMID"].split(";") if p.strip()]
            out[(drug, r["Gene"])] = Citation(pmids=pmids, url=r["Guideline"] or None)
        return out

    def citation(self, row: SourceRow) -> Citation:
        if row.source == "CPIC":
            for gene, _, _ in row.genes:
                c = self.citations.get((row.drug, gene))
                if c is not None and c.url:
                    return c
        curated = (self.curation.get("citations") or {}).get(f"{row.source} {row.drug}")
        if curated:
            return Citation(**curated)
        url = f"https://www.pharmgkb.org/guidelineAnnotation/{row.annotation}" if row.annotation else None
        return Citation(url=url, annotation=row.annotation)

    def alternatives(self, row: SourceRow, action: str) -> list[str]:
        if action not in ("contraindicated", "avoid"):
            return []
        named = [
            d for d in sorted(self.known_drugs) if d != row.drug and re.search(rf"\b{re.escape(d)}\b", row.text, re.I)
        ]
        curated = list(self.curation.get("alternatives", {}).get(row.drug, []))
        return list(dict.fromkeys(named + curated))

    def strength(self, drug: str, source: str, genes: list[str], action: str) -> str | None:
        if action in ("standard_dosing", "insufficient_evidence"):
            return None
        for s in self.curation.get("strengths", []):
            if s["drug"] == drug and s["source"] == source and s["gene"] in genes:
                return str(s["strength"])
        return None

    def rule(self, row: SourceRow) -> LookupRule | None:
        conditions: list[GeneCondition] = []
        for gene, pheno, geno in row.genes:
            mapped = self.mapper.map(gene, pheno, geno, row.source)
            if isinstance(mapped, str):
                self.log.unmapped.append((row, mapped))
                return None
            conditions.extend(mapped)
        action = classify_action(row.text)
        dosed = action in ("reduce_dose", "increase_dose", "avoid")
        dose, dose_range = dose_fraction(row.text) if dosed else (None, None)
        genes = [c.gene for c in conditions]
        rid = f"{row.drug}.{row.source.lower()}." + "+".join(_slug(c) for c in sorted(conditions, key=lambda c: c.gene))
        return LookupRule(
            id=rid,
            drugs=[row.drug],
            source=row.source,  # type: ignore[arg-type]
            guideline=f"{row.source} {row.drug} and {', '.join(sorted({g for g, _, _ in row.genes}))}",
            version=(
                "PyPGx recommendation table" if row.table == PYPGX_TABLE else "PharmGKB annotation (PAnno 0.3.1, 2022)"
            ),
            citation=self.citation(row),
            condition=conditions,
            action=action,  # type: ignore[arg-type]
            dose_factor=dose,
            dose_factor_range=dose_range,
            strength=self.strength(row.drug, row.source, genes, action),  # type: ignore[arg-type]
            alternatives=self.alternatives(row, action),
            rationale=rationale(row.drug, row.source, conditions, action, dose, self.roles),
            provenance=Provenance(table=row.table, rows=[row.row_id]),
        )


def _apply_overrides(rule: LookupRule, overrides: list[dict[str, Any]]) -> LookupRule:
    """Curated corrections: by rule id (``id``) or by drug/source/allele status (``match``)."""
    for o in overrides:
        if "id" in o:
            if o["id"] == rule.id:
                rule = rule.model_copy(update=o["set"])
            continue
        m = o["match"]
        if m.get("drug") not in rule.drugs or m.get("source") != rule.source:
            continue
        statuses = [c.allele_status for c in rule.condition if c.allele_status is not None]
        wanted = (m.get("allele"), m.get("positive", True))
        if "allele" in m and not any((s.allele, s.positive) == wanted for s in statuses):
            continue
        rule = rule.model_copy(update=o["set"])
    return rule


def _warfarin_rule(curation: dict[str, Any], citation: Citation) -> WarfarinDosingRule:
    w = curation["warfarin"]
    return WarfarinDosingRule(
        id="warfarin.cpic.dosing-algorithm",
        drugs=["warfarin"],
        source="CPIC",
        guideline="CPIC warfarin and CYP2C9, VKORC1, CYP4F2, rs12777823",
        version="2017 update",
        citation=citation,
        algorithms=list(w["algorithms"]),
        cyp4f2_increase=list(w["cyp4f2_increase"]),
        african_cyp2c9_decrease=list(w["african_cyp2c9_decrease"]),
        african_cyp2c9_alleles=list(w["african_cyp2c9_alleles"]),
        african_rs12777823_decrease=list(w["african_rs12777823_decrease"]),
        rs12777823_position=int(w["rs12777823_position"]),
        rationale="CYP2C9 and VKORC1 change warfarin dose requirements; CPIC: compute the starting dose with a "
        "validated pharmacogenetic algorithm, then adjust for CYP4F2*3 or, in African ancestry, for "
        "CYP2C9*5/*6/*8/*11 and rs12777823.",
    )


def excluded_rows(curation: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(table, row) -> why the curators left a source row out (e.g. a row attributed to the wrong guideline)."""
    return {(e["table"], e["row"]): str(e["reason"]) for e in curation.get("excluded_rows", [])}


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
        or any(_ACTIVITY.match(geno) for _, _, geno in r.genes)
    ]


def build_rules(
    kb: KnowledgeBase, data: Path, curation: dict[str, Any], roles: dict[tuple[str, str], str]
) -> tuple[dict[str, RuleFile], ImportLog, list[SourceRow]]:
    rows = read_source_rows(data)
    builder = Builder(kb, data, curation, roles)
    excluded = excluded_rows(curation)
    chosen = [r for r in imported_rows(rows) if (r.table, r.row_id) not in excluded]
    by_drug: dict[str, dict[str, LookupRule]] = defaultdict(dict)
    for row in chosen:
        if row.drug == "warfarin" and row.source == "CPIC":
            continue  # the dosing algorithm rule covers CPIC warfarin
        rule = builder.rule(row)
        if rule is None:
            continue
        fixed = _apply_overrides(rule, [*curation.get("overrides", []), *curation.get("id_overrides", [])])
        if fixed.rationale == rule.rationale and (fixed.action, fixed.dose_factor) != (rule.action, rule.dose_factor):
            fixed = fixed.model_copy(
                update={
                    "rationale": rationale(
                        row.drug, row.source, fixed.condition, fixed.action, fixed.dose_factor, roles
                    )
                }
            )
        rule = fixed
        existing = by_drug[row.drug].get(rule.id)
        if existing is None:
            by_drug[row.drug][rule.id] = rule
            continue
        if existing.action != rule.action:
            first_rows = existing.provenance.rows if existing.provenance else ""
            builder.log.conflicts.append(
                f"{rule.id}: {existing.action} ({first_rows}) "
                f"vs {rule.action} ({row.table} {row.row_id}); kept the first"
            )
        prov = existing.provenance
        if prov is not None:
            merged = Provenance(table=prov.table, rows=[*prov.rows, row.row_id], note=prov.note)
            by_drug[row.drug][rule.id] = existing.model_copy(update={"provenance": merged})
    for alias, like in (curation.get("same_rules_as") or {}).items():
        for rule in list(by_drug.get(like, {}).values()):
            copy = rule.model_copy(
                update={
                    "id": alias + rule.id[len(like) :],
                    "drugs": [alias],
                    "guideline": (rule.guideline or "").replace(like, alias) or None,
                    "rationale": rule.rationale.replace(like, alias),
                    "alternatives": [a for a in rule.alternatives if a != alias],
                    "provenance": Provenance(
                        table=rule.provenance.table if rule.provenance else "curation",
                        rows=rule.provenance.rows if rule.provenance else [],
                        note=f"class-wide guideline: the rule of {like}",
                    ),
                }
            )
            by_drug[alias][copy.id] = copy
    for extra in curation.get("added_rules", []):
        rule = LookupRule.model_validate({"kind": "lookup", **extra})
        for drug in rule.drugs:
            by_drug[drug][rule.id] = rule
    for rules_by_id in by_drug.values():
        for rule in reference_rules(kb, list(rules_by_id.values()), curation.get("reference_phenotypes", {})):
            rules_by_id.setdefault(rule.id, rule)
    for rules_by_id in by_drug.values():
        for rule in score_dependent_phenotype_rules(kb, list(rules_by_id.values())):
            rules_by_id[rule.id] = rule
    drop_unsafe_alternatives(kb, by_drug)
    files: dict[str, RuleFile] = {}
    warfarin_cite = builder.citations.get(("warfarin", "CYP2C9"), Citation())
    for drug in sorted(set(by_drug) | {"warfarin"}):
        rules: list[Any] = list(by_drug.get(drug, {}).values())
        if drug == "warfarin":
            rules.insert(0, _warfarin_rule(curation, warfarin_cite))
        files[drug] = RuleFile(drug=drug, rules=rules)
    return files, builder.log, rows


def reference_rules(kb: KnowledgeBase, rules: list[LookupRule], reference: dict[str, list[str]]) -> list[LookupRule]:
    """Explicit "no action" rules for a source's reference phenotype.

    DPWG tables list only the phenotypes it assessed; the normal phenotype is the reference the
    others are compared against, and the guideline means "no action" for it. Writing that as a
    rule makes the report say "standard dosing (DPWG reference)" instead of "no guideline", and
    keeps the decision visible and editable in the YAML.
    """
    from pgx.rules.engine import rule_groups

    out: list[LookupRule] = []
    for group in rule_groups(rules):
        first = group[0]
        names = reference.get(first.source, [])
        single = sorted({r.condition[0].gene for r in group if len(r.condition) == 1})
        for gene in single if names else []:
            if gene not in kb.genes:
                continue
            known = {p.lower(): p for p in ConditionMapper(kb, {}).phenotypes(kb.gene(gene))}
            covered = {
                p.lower()
                for r in group
                if len(r.condition) == 1 and r.condition[0].gene == gene
                for p in (r.condition[0].phenotypes or [])
            }
            missing = [known[n.lower()] for n in names if n.lower() in known and n.lower() not in covered]
            if missing:
                out.append(_reference_rule(first, gene, missing))
    return out


def _reference_rule(first: LookupRule, gene: str, missing: list[str]) -> LookupRule:
    cond = GeneCondition(gene=gene, phenotypes=missing)
    return first.model_copy(
        update={
            "id": f"{first.drugs[0]}.{first.source.lower()}.{_slug(cond)}",
            "condition": [cond],
            "action": "standard_dosing",
            "dose_factor": None,
            "dose_factor_range": None,
            "strength": None,
            "alternatives": [],
            "rationale": f"{gene} {missing[0]}: the {first.source} reference phenotype; "
            "the guideline lists no action for it.",
            "provenance": Provenance(
                table=first.provenance.table if first.provenance else "curation",
                note=f"{first.source} reference phenotype (rules/curation.yaml reference_phenotypes)",
            ),
        }
    )


def score_dependent_phenotype_rules(kb: KnowledgeBase, rules: list[LookupRule]) -> list[LookupRule]:
    """Phenotype rules for guidelines keyed by activity score, safe for a result without a score.

    A VCF call always carries the score, and the score rules win by specificity. A phenotype
    alone (an outside call, a phenoconverted score between the guideline's grid points) cannot
    tell meloxicam's score 1 (halve the dose) from 1.5 (standard), so its rule takes the more
    cautious of the score rules' actions; where the guideline has score rules only (DPWG's
    fluoropyrimidines, CPIC phenytoin), such a phenotype rule is added.
    """
    from pgx.phenotype.phenotyper import phenotype_from_score

    def score(r: LookupRule) -> float:
        s = r.condition[0].activity_score
        return (s.min or 0.0) if s is not None else 0.0

    out: list[LookupRule] = []
    scored: dict[tuple[str, str], list[LookupRule]] = defaultdict(list)
    for r in rules:
        c = r.condition[0]
        if len(r.condition) == 1 and c.activity_score is not None and c.activity_score.min is not None:
            scored[(r.source, c.gene)].append(r)
    for (source, gene_name), score_rules in scored.items():
        if gene_name not in kb.genes or kb.gene(gene_name).phenotyping.method != "activity_score":
            continue
        gene = kb.gene(gene_name)
        by_phenotype: dict[str, list[LookupRule]] = defaultdict(list)
        for r in score_rules:
            by_phenotype[phenotype_from_score(gene, score(r))].append(r)
        for phenotype, refined in by_phenotype.items():
            if phenotype == gene.phenotyping.indeterminate:
                continue
            existing = [
                r
                for r in rules
                if r.source == source
                and len(r.condition) == 1
                and r.condition[0].gene == gene_name
                and r.condition[0].phenotypes is not None
                and phenotype.lower() in {p.lower() for p in r.condition[0].phenotypes}
            ]
            base = existing[0] if existing else None
            if base is not None and {r.action for r in refined} == {base.action}:
                continue
            worst = min([*([base] if base else []), *refined], key=lambda r: ACTION_SEVERITY[r.action])
            by_score = "; ".join(
                f"{describe_condition(r.condition[0]).split(' ', 1)[1]}: {_ACTION_WORDS[r.action]}"
                for r in sorted(refined, key=score)
            )
            cond = base.condition[0] if base else GeneCondition(gene=gene_name, phenotypes=[phenotype])
            template = base or worst
            prov = template.provenance
            out.append(
                template.model_copy(
                    update={
                        "id": base.id if base else f"{worst.drugs[0]}.{source.lower()}.{_slug(cond)}",
                        "condition": [cond],
                        "action": worst.action,
                        "dose_factor": worst.dose_factor,
                        "dose_factor_range": worst.dose_factor_range,
                        "alternatives": worst.alternatives,
                        "rationale": f"{describe_condition(cond)} without an activity score: {source} advice depends on the "
                        f"score ({by_score}); the more cautious applies.",
                        "provenance": Provenance(
                            table=prov.table if prov else "curation",
                            rows=(prov.rows if base and prov else []),
                            note="action from the activity-score rules (a phenotype alone cannot choose)",
                        ),
                    }
                )
            )
    return out


def drop_unsafe_alternatives(kb: KnowledgeBase, by_drug: dict[str, dict[str, LookupRule]]) -> None:
    """Remove alternatives that the same genotype would also make contraindicated or avoided.

    Guideline texts name drugs in warnings as well as in advice ("carbamazepine is therefore
    not an alternative"), so a drug named in the text is only kept as an alternative if, for a
    patient who meets this rule's condition, no rule of that drug says avoid it.
    """
    from pgx.rules.curator import condition_examples
    from pgx.rules.engine import condition_holds

    for rules_by_id in by_drug.values():
        for rid, rule in list(rules_by_id.items()):
            if not rule.alternatives:
                continue
            states = condition_examples(kb, rule.condition)
            keep = []
            for alt in rule.alternatives:
                alt_rules = list(by_drug.get(alt, {}).values())
                flagged = any(
                    r.action in ("contraindicated", "avoid")
                    and all(condition_holds(c, st.get(c.gene)) for c in r.condition)
                    for r in alt_rules
                    for st in states
                )
                if not flagged:
                    keep.append(alt)
            if keep != rule.alternatives:
                rules_by_id[rid] = rule.model_copy(update={"alternatives": keep})


def load_roles(path: Path) -> dict[tuple[str, str], str]:
    """(drug, gene) -> pathway role, from the curated drug file when it exists."""
    if not path.exists():
        return {}
    data = load_marked(path).data or {}
    out = {}
    for drug, facts in (data.get("drugs") or {}).items():
        for p in (facts or {}).get("pathways", []) or []:
            out[(drug.lower(), p["gene"])] = p["role"]
    return out


# ----------------------------------------------------------------------------- writing


def _rule_yaml(rule: LookupRule | WarfarinDosingRule) -> dict[str, Any]:
    from pgx.yamlio import FlowDict, FlowList

    data = rule.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"kind": rule.kind, **data}
    for key in (
        "drugs",
        "alternatives",
        "algorithms",
        "cyp4f2_increase",
        "african_cyp2c9_decrease",
        "african_cyp2c9_alleles",
        "african_rs12777823_decrease",
        "dose_factor_range",
    ):
        if key in data:
            data[key] = FlowList(data[key])
    if "condition" in data:
        conds = []
        for c in data["condition"]:
            for k in ("phenotypes", "diplotypes"):
                if k in c:
                    c[k] = FlowList(c[k])
            for k in ("activity_score", "allele_status"):
                if k in c:
                    c[k] = FlowDict(c[k])
            conds.append(FlowDict(c))
        data["condition"] = conds
    if "citation" in data:
        cit = data["citation"]
        if "pmids" in cit:
            cit["pmids"] = FlowList(cit["pmids"])
    if "provenance" in data:
        prov = data["provenance"]
        data["provenance"] = FlowDict({**prov, "rows": FlowList(prov["rows"])}) if "rows" in prov else FlowDict(prov)
    return data


HEADER = (
    "Generated by `pgx rules build` from public guideline tables (see manifest.yaml), merged with\n"
    "rules/curation.yaml. Prefer editing curation.yaml and rebuilding; `pgx rules validate` checks hand edits."
)


def write_rules(out: Path, files: dict[str, RuleFile], curation: dict[str, Any], data: Path) -> list[str]:
    from pgx.knowledge.importer.sources import read_commit
    from pgx.rules.loader import filename_for
    from pgx.rules.schema import RulesManifest
    from pgx.yamlio import dump_yaml

    out.mkdir(parents=True, exist_ok=True)
    wanted = {f"{filename_for(d)}.yaml" for d in files}
    for old in out.glob("*.yaml"):
        curated = old.name in ("manifest.yaml", "curation.yaml") or old.name.startswith("overrides")
        if old.name not in wanted and not curated:
            old.unlink()
    for drug, rf in files.items():
        doc = {"schema_version": rf.schema_version, "drug": rf.drug, "rules": [_rule_yaml(r) for r in rf.rules]}
        (out / f"{filename_for(drug)}.yaml").write_text(dump_yaml(doc, header=f"{drug}: {HEADER}"), encoding="utf-8")
    manifest = RulesManifest(
        rules_version=f"1.{curation.get('rules_revision', 1)}",
        sources=[
            {
                "name": "PyPGx CPIC recommendation table",
                "commit": read_commit(data / "pypgx") or "",
                "license": "MIT",
                "file": PYPGX_TABLE,
            },
            {
                "name": "PAnno guideline table (PharmGKB CPIC/DPWG annotations)",
                "version": "0.3.1",
                "license": "MPL-2.0",
                "file": PANNO_TABLE,
            },
            {"name": "PyPGx CPIC gene-drug table (citations)", "file": CPIC_TABLE},
            {"name": "pgx curation", "file": "rules/curation.yaml"},
        ],
        drugs=sorted(files),
    )
    (out / "manifest.yaml").write_text(
        dump_yaml(
            manifest.model_dump(mode="json"),
            header="pgx rules manifest: the version every report carries (plus a digest of the rule files).",
        ),
        encoding="utf-8",
    )
    (out / "tests").mkdir(exist_ok=True)
    (out / "tests" / "generated.yaml").write_text(
        dump_yaml(
            seed_tests(files),
            header="Generated by `pgx rules build`: each drug's most severe rule per source, "
            "as a test case.\nHand-written cases belong in scenarios.yaml.",
        ),
        encoding="utf-8",
    )
    return sorted(files)


def seed_tests(files: dict[str, RuleFile]) -> dict[str, Any]:
    """One test per drug and source: the patient of its most severe rule gets that rule's action.

    They pin the imported rules against accidental edits; curated scenarios (co-medication,
    ambiguity) live in rules/tests/scenarios.yaml beside them.
    """
    from pgx.rules.schema import ACTION_SEVERITY, RuleTest, RuleTestFile

    tests = []
    for drug, rf in sorted(files.items()):
        by_source: dict[str, list[LookupRule]] = defaultdict(list)
        for r in rf.rules:
            if isinstance(r, LookupRule) and not any(c.not_tested or c.by_comedication for c in r.condition):
                by_source[r.source].append(r)
        for source, rules in sorted(by_source.items()):
            rule = min(rules, key=lambda r: (ACTION_SEVERITY[r.action], -len(r.condition), r.id))
            phenotypes: dict[str, str] = {}
            activity: dict[str, float] = {}
            diplotypes: dict[str, str] = {}
            for c in rule.condition:
                if c.phenotypes:
                    phenotypes[c.gene] = c.phenotypes[0]
                elif c.activity_score is not None:
                    activity[c.gene] = c.activity_score.min if c.activity_score.min is not None else 0.0
                elif c.allele_status is not None:
                    word = "positive" if c.allele_status.positive else "negative"
                    phenotypes[c.gene] = f"{c.allele_status.allele} {word}"
                elif c.diplotypes:
                    diplotypes[c.gene] = c.diplotypes[0]
            tests.append(
                RuleTest(
                    name=f"{rule.id} fires",
                    drug=drug,
                    phenotypes=phenotypes,
                    activity_scores=activity,
                    diplotypes=diplotypes,
                    expect={source: rule.action},
                )
            )
    return RuleTestFile(tests=tests).model_dump(mode="json", exclude_defaults=True)
