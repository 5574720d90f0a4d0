"""Allele functions and phenotype rules, from PharmCAT's phenotype tables or, where this copy
lacks them (CYP2D6, G6PD, RYR1), derived from PyPGx's allele table and PAnno's diplotype table.

Every function returns, per named allele, ``(function, activity value, function_source)``
(the source is None when it is the primary table) and the gene's phenotype rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pgx.errors import ImportSourceError
from pgx.knowledge.importer import sources as S
from pgx.knowledge.importer.tables import activity, function_from_activity, function_label, pair_rules, score_ranges
from pgx.knowledge.schema import SCORE_TOLERANCE, FunctionPairRule, Phenotyping

AlleleFacts = tuple[str | None, float | None, str | None]  # function, activity value, function_source
Functions = tuple[dict[str, AlleleFacts], Phenotyping]


def from_pharmcat(pheno: dict[str, Any], names: list[str], where: str) -> Functions:
    """A PharmCAT phenotype file: allele facts as it gives them, rows compacted into rules."""
    alleles = {a["name"]: a for a in pheno["namedAlleles"]}
    pairs: dict[tuple[str, ...], set[str]] = defaultdict(set)
    scores: dict[str, set[str]] = defaultdict(set)
    for row in pheno["diplotypes"]:
        in_row = [n for n, count in row["diplotypekey"].items() for _ in range(count)]
        funcs = tuple(sorted(alleles[n]["functionValue"] for n in in_row))
        pairs[funcs].add(row["phenotype"] or row["generesult"])
        if row.get("activityScore") is not None:
            scores[row["activityScore"]].add(row["phenotype"] or row["generesult"])
    if not pheno["diplotypes"]:
        phenotyping = Phenotyping(method="none")
    elif scores and any(a.get("activityValue") is not None for a in alleles.values()):
        phenotyping = Phenotyping(method="activity_score", score_ranges=score_ranges(scores, where))
    else:
        phenotyping = Phenotyping(method="function_pair", function_pairs=pair_rules(pairs, where))
    out: dict[str, AlleleFacts] = {}
    for n in names:
        a = alleles.get(n)
        if a is None:
            out[n] = ("Unknown function", None, "not in the phenotype table")
        else:
            out[n] = (a["functionValue"], activity(a.get("activityValue")), None)
    return out, phenotyping


def cyp2d6(src: S.SourceTree, gene: str, names: list[str]) -> Functions:
    """CYP2D6: PyPGx's allele table, else activity solved from PAnno's diplotype scores."""
    pypgx = S.pypgx_alleles(src, gene)
    rows = S.panno_diplotypes(src, gene)
    from_pairs = S.panno_activity_values(rows, "*1", 1.0)
    out: dict[str, AlleleFacts] = {}
    for n in names:
        p = pypgx.get(n)
        if p is not None:
            act = activity(p["activity"])
            if n in from_pairs and act is not None and abs(from_pairs[n] - act) > SCORE_TOLERANCE:
                raise ImportSourceError(f"CYP2D6 {n}: PyPGx activity {act} disagrees with PAnno {from_pairs[n]}")
            out[n] = (function_label(p["function"]), act, "PyPGx allele table")
        elif n in from_pairs:
            act = from_pairs[n]
            out[n] = (
                function_from_activity(act),
                act,
                "activity from PAnno diplotype table; function derived from it",
            )
        else:
            out[n] = ("Unknown function", None, "not in PyPGx or PAnno tables")
    scores: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        scores[r["ActivityScore"]].add(r["Phenotype"])
    return out, Phenotyping(method="activity_score", score_ranges=score_ranges(scores, "panno CYP2D6"))


def g6pd(src: S.SourceTree, gene: str, names: list[str]) -> Functions:
    """G6PD: deficiency category per allele from PAnno's hemizygous rows, WHO class from PyPGx.

    Function labels follow the reference tool ("IV/Normal", "II/Deficient"); phenotype rules
    are derived at the category level from PAnno's diplotype table and expanded to labels.
    """
    pypgx = S.pypgx_alleles(src, gene)
    rows = S.panno_diplotypes(src, gene)
    hemi = {r["Allele1"]: r["Phenotype"] for r in rows if not r["Allele2"]}
    by_class = {"I": "Deficient with CNSHA", "II": "Deficient", "III": "Deficient", "IV": "Normal"}

    def panno_name(n: str) -> str | None:
        for cand in (n, n.replace(", ", "/"), n.replace("(reference)", "(wildtype)")):
            if cand in hemi:
                return cand
        return None

    out: dict[str, AlleleFacts] = {}
    category_of: dict[str, str] = {}
    for n in names:
        who = None
        fn = (pypgx.get(n) or {}).get("function")
        if fn and fn.startswith("Class "):
            who = fn[len("Class ") :].split(" ")[0]
        pn = panno_name(n)
        category = hemi[pn] if pn else by_class.get(who or "", "Indeterminate")
        label = "Uncertain function" if category == "Indeterminate" else category
        if who and by_class.get(who) == category:
            label = f"{who}/{category}"
        srcs = "PAnno hemizygous phenotype" if pn else ("PyPGx WHO class" if who else "not in PyPGx or PAnno tables")
        out[n] = (label, None, srcs)
        category_of[label] = category
    return out, Phenotyping(method="function_pair", function_pairs=_g6pd_rules(rows, hemi, category_of))


def _g6pd_rules(
    rows: list[dict[str, str]], hemi: dict[str, str], category_of: dict[str, str]
) -> list[FunctionPairRule]:
    """Rules between categories (from the rows), written for every pair of function labels."""
    cat_rules: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for r in rows:
        cats = tuple(sorted(hemi.get(a, "?") for a in (r["Allele1"], r["Allele2"]) if a))
        if "?" not in cats:
            cat_rules[cats].add(r["Phenotype"])
    labels = sorted(set(category_of))
    pairs: dict[tuple[str, ...], set[str]] = {}
    for i, f1 in enumerate(labels):
        single = cat_rules.get((category_of[f1],))
        if single:
            pairs[(f1,)] = single
        for f2 in labels[i:]:
            rule = cat_rules.get(tuple(sorted((category_of[f1], category_of[f2]))))
            if rule:
                pairs[tuple(sorted((f1, f2)))] = rule
    return pair_rules(pairs, "panno G6PD")


MH = "Malignant Hyperthermia associated"


def ryr1(src: S.SourceTree, gene: str, names: list[str]) -> Functions:
    """RYR1: function from PyPGx, else from PAnno's pairing with Reference, else assumed uncertain.

    The assumption is recorded in ``function_source`` ("assumed: ..."), so a curator sees which
    alleles an MH-associated finding could hide behind.
    """
    pypgx = S.pypgx_alleles(src, gene)
    rows = S.panno_diplotypes(src, gene)
    with_ref = {}
    for r in rows:
        for a, b in ((r["Allele1"], r["Allele2"]), (r["Allele2"], r["Allele1"])):
            if b == "Reference" and a != "Reference":
                with_ref[a] = MH if r["Phenotype"].startswith("Malignant") else "Uncertain function"

    def lookup(n: str) -> tuple[str, str] | None:
        stem = n.split("del")[0] + "del" if "del" in n else n
        for cand in (n, stem):
            if cand in pypgx and pypgx[cand]["function"]:
                return (function_label(pypgx[cand]["function"]) or "", "PyPGx allele table")
        for cand in with_ref:
            if cand == n or (cand.split("del")[0] + "del" == stem):
                return (with_ref[cand], "PAnno diplotype table (paired with Reference)")
        return None

    out: dict[str, AlleleFacts] = {}
    for n in names:
        found = lookup(n)
        if found:
            out[n] = (found[0], None, found[1])
        else:
            out[n] = (
                "Uncertain function",
                None,
                "assumed: not in PyPGx or PAnno tables (CPIC lists most such variants as uncertain)",
            )
    pairs: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for r in rows:
        funcs = []
        for a in (r["Allele1"], r["Allele2"]):
            hit = lookup(a)
            funcs.append(hit[0] if hit else "?")
        if "?" not in funcs:
            pairs[tuple(sorted(funcs))].add(r["Phenotype"])
    # Pairs the table never lists follow its own pattern (CPIC): any MH-associated allele
    # gives susceptibility, otherwise susceptibility is uncertain.
    for f1 in ("Normal function", "Uncertain function", MH):
        for f2 in ("Normal function", "Uncertain function", MH):
            key = tuple(sorted((f1, f2)))
            if key not in pairs:
                pairs[key].add("Malignant Hyperthermia Susceptibility" if MH in key else "Uncertain Susceptibility")
    return out, Phenotyping(method="function_pair", function_pairs=pair_rules(pairs, "panno RYR1"))


DERIVED: dict[str, Callable[[S.SourceTree, str, list[str]], Functions]] = {
    "CYP2D6": cyp2d6,
    "G6PD": g6pd,
    "RYR1": ryr1,
}
"""Genes whose phenotype table the PharmCAT copy lacks, and where their functions come from instead."""


def allele_functions(src: S.SourceTree, gene: str, names: list[str]) -> Functions:
    """Facts for each of ``names`` and the phenotype rules; genes no table covers get method 'none'."""
    pheno = S.pharmcat_phenotype(src, f"{gene}.json")
    if pheno is not None:
        return from_pharmcat(pheno, names, f"pharmcat/phenotype/{gene}.json")
    derive = DERIVED.get(gene)
    if derive is None:
        return {n: (None, None, None) for n in names}, Phenotyping(method="none")
    return derive(src, gene, names)
