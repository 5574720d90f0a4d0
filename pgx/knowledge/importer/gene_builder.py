"""One VCF-callable gene from a PharmCAT definition, the other source tables and the curation.

:class:`GeneBuilder` also holds what every gene importer shares (positions with their GRCh37
lift and reference context, quirks from exemptions plus curation, the checks that each curated
quirk matches the gene it is given to); :mod:`.pypgx_gene` builds PyPGx-only genes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgx.errors import ImportSourceError
from pgx.knowledge.curation import Curated, CuratedGene, CuratedQuirks, KnowledgeCuration, as_curated
from pgx.knowledge.importer import sources as S
from pgx.knowledge.importer.context import reference_context
from pgx.knowledge.importer.functions import allele_functions
from pgx.knowledge.importer.tables import activity, function_label, region
from pgx.knowledge.schema import (
    Gene,
    Grch37Locus,
    NamedAllele,
    Position,
    Quirks,
    RefContext,
    StructuralAllele,
    UnphasedPriority,
)
from pgx.naming import allele_key

Grch37Map = dict[tuple[int, str, str], tuple[int, str, str]]  # (GRCh38 pos, ref, alt) -> (GRCh37 pos, ref, alt)

LOWEST_FUNCTION_ONLY = ("linked_variants", "function_order")
"""Quirks only the lowest-function caller reads: given to another gene they would do nothing."""


def check_ignored_positions(gene: str, definition: dict[str, Any], exemption: dict[str, Any]) -> None:
    """No definition variant may be one of the exemptions' ``ignoredPositions``.

    PharmCAT applies those when it writes its definitions (its DataManager removes each variant
    matching one, by rsID or else by HGVS name), so the files pgx reads must not hold one; if a
    data release ever does, pgx would call with a variant the reference tool ignores.
    """
    for ignored in exemption.get("ignoredPositions", []):
        for v in definition["variants"]:
            if ignored.get("rsid"):
                same = v.get("rsid") == ignored["rsid"]
            else:
                same = v.get("chromosomeHgvsName") == ignored.get("chromosomeHgvsName")
            if same:
                label = v.get("rsid") or v.get("chromosomeHgvsName")
                raise ImportSourceError(
                    f"pharmcat/definition/{gene}_translation.json: variant {label} at {v['position']} is listed in"
                    " exemptions.json ignoredPositions, which PharmCAT removes from its definitions"
                )


class GeneBuilder:
    """Builds one VCF-callable gene from a PharmCAT definition plus the other sources.

    ``curation`` is the validated ``curation.yaml``; a plain mapping is validated as if it were
    that file (for callers that build one gene in code).
    """

    def __init__(
        self, src: S.SourceTree, curation: Curated[KnowledgeCuration] | Mapping[str, Any], grch37: Grch37Map
    ) -> None:
        self.src = src
        self.curation = as_curated(curation, KnowledgeCuration, "<curation>")
        self.grch37 = grch37
        self.exemptions = S.pharmcat_exemptions(src)

    def positions(self, definition: dict[str, Any], tier1: set[int]) -> list[Position]:
        return [self.position(v, tier1) for v in definition["variants"]]

    def position(self, v: dict[str, Any], tier1: set[int]) -> Position:
        """A source variant with its GRCh37 lift (PyPGx) and reference context for indels."""
        lifted = [self.grch37.get((v["position"], v["ref"], alt)) for alt in v["alts"]]
        found = [x for x in lifted if x]
        g37 = None
        if found and all(f[0] == found[0][0] for f in found):
            g37 = Grch37Locus(position=found[0][0], ref=found[0][1], alts=[f[2] for f in found])
        ctx = reference_context(v["position"], v["ref"], v["alts"], v.get("chromosomeHgvsName"))
        return Position(
            position=v["position"],
            rsid=v.get("rsid"),
            ref=v["ref"],
            alts=list(v["alts"]),
            hgvs=v.get("chromosomeHgvsName"),
            grch37=g37,
            context=RefContext(start=ctx[0], sequence=ctx[1]) if ctx else None,
            tier1=v["position"] in tier1,
        )

    def build(self, gene: str) -> Gene:
        d = S.pharmcat_definition(self.src, gene)
        ex = self.exemptions.get(gene, {})
        entry = self.curation.value.genes.get(gene, CuratedGene())
        check_ignored_positions(gene, d, ex)
        positions = self.positions(d, set(ex.get("amp1Positions", [])))
        variants = d["variants"]
        funcs, phenotyping = allele_functions(self.src, gene, [a["name"] for a in d["namedAlleles"]])
        tie = self.tie_ranks(gene, entry, set(funcs))
        alleles = []
        for a in d["namedAlleles"]:
            f, act, fsrc = funcs[a["name"]]
            alleles.append(
                NamedAllele(
                    name=a["name"],
                    id=a.get("id"),
                    reference=bool(a.get("reference")),
                    function=f,
                    activity_value=act,
                    function_source=fsrc,
                    alleles={variants[i]["position"]: x for i, x in enumerate(a["alleles"]) if x is not None},
                    tie_break_rank=tie.get(a["name"]),
                )
            )
        alleles.sort(key=lambda x: allele_key(x.name, x.reference))
        structural = self.structural(gene, set(funcs)) if entry.quirks.copy_number else []
        self.check_quirks(("genes", gene), entry.quirks, positions, alleles, structural)
        row = S.pypgx_gene(self.src, gene)
        return Gene(
            gene=gene,
            structural_alleles=structural,
            chromosome=d["chromosome"],
            strand=row["Strand"] if row and row["Strand"] in ("+", "-") else None,
            region=region(row["GRCh38Region"]) if row else None,
            grch37_region=region(row["GRCh37Region"]) if row else None,
            definition_version=d.get("version"),
            positions=positions,
            named_alleles=alleles,
            phenotyping=phenotyping,
            quirks=self.quirks(gene, ex, entry.quirks, set(funcs)),
        )

    def tie_ranks(self, gene: str, entry: CuratedGene, names: set[str]) -> dict[str, int]:
        """``tie_break_alleles`` as ranks; each must be one of the gene's alleles, listed once."""
        loc = ("genes", gene, "tie_break_alleles")
        if entry.tie_break_alleles and entry.quirks.calling != "lowest_function":
            raise self.curation.error_at(
                loc, "tie-breaks only order variants of lowest-function genes (calling)", at_key=True
            )
        ranks: dict[str, int] = {}
        for i, name in enumerate(entry.tie_break_alleles):
            if name not in names:
                raise self.curation.error_at((*loc, i), f"{name!r} is not a named allele of {gene}")
            if name in ranks:
                raise self.curation.error_at((*loc, i), f"{name!r} is listed twice")
            ranks[name] = i
        return ranks

    def check_quirks(
        self,
        where: tuple[str, str],
        quirks: CuratedQuirks,
        positions: list[Position],
        alleles: list[NamedAllele],
        structural: list[StructuralAllele],
    ) -> None:
        """Each curated quirk must name positions, alleles and functions the built gene has."""
        loc = (*where, "quirks")
        err = self.curation.error_at
        gene = where[1]
        at = {p.position for p in positions}
        names = {a.name for a in alleles}
        if quirks.calling == "outside_only":
            raise err((*loc, "calling"), "genes called only from outside calls are listed under outside_only")
        for key in LOWEST_FUNCTION_ONLY:
            if getattr(quirks, key) and quirks.calling != "lowest_function":
                raise err(
                    (*loc, key), f"only lowest-function genes read {key} (calling is {quirks.calling})", at_key=True
                )
        for i, rule in enumerate(quirks.linked_variants):
            for field in ("allele", "authoritative_only_allele"):
                if getattr(rule, field) not in names:
                    raise err((*loc, "linked_variants", i, field), f"not a named allele of {gene}")
            for field in ("authoritative_position", "supporting_position"):
                if getattr(rule, field) not in at:
                    raise err((*loc, "linked_variants", i, field), f"not a position of {gene}")
        fb = quirks.variant_fallback
        if fb is not None:
            if fb.position not in at:
                raise err((*loc, "variant_fallback", "position"), f"not a position of {gene}")
            for field in ("ref_allele_name", "alt_allele_name"):
                if getattr(fb, field) not in names:
                    raise err((*loc, "variant_fallback", field), f"not a named allele of {gene}")
        cn = quirks.copy_number
        if cn is not None and cn.deletion_allele not in {a.name for a in structural}:
            raise err((*loc, "copy_number", "deletion_allele"), f"not a structural allele of {gene} (PyPGx SV)")
        functions = {a.function for a in alleles}
        for i, fn in enumerate(quirks.function_order):
            if fn not in functions:
                raise err((*loc, "function_order", i), f"no {gene} allele has function {fn!r}")

    def structural(self, gene: str, defined: set[str]) -> list[StructuralAllele]:
        """Alleles PyPGx marks as structural (SV) that no position-based definition covers."""
        out = []
        for name, facts in S.pypgx_alleles(self.src, gene).items():
            if facts.get("sv") and name not in defined:
                out.append(
                    StructuralAllele(
                        name=name,
                        function=function_label(facts["function"]),
                        activity_value=activity(facts["activity"]),
                        source="PyPGx allele table",
                    )
                )
        return sorted(out, key=lambda a: allele_key(a.name))

    def quirks(self, gene: str, ex: dict[str, Any], curated: CuratedQuirks, names: set[str]) -> Quirks:
        """The curated quirks plus the exemptions' (``ex``) and the top-level undocumented-as-reference list."""
        q = curated.given()
        if gene in self.curation.value.undocumented_as_reference:
            q["undocumented_as_reference"] = True
        q["required_positions"] = list(ex.get("requiredPositions", []))
        # Alleles the source already dropped from its definitions need no entry here.
        q["ignored_alleles"] = [a for a in ex.get("ignoredAlleles", []) if a in names]
        q["extra_positions"] = [self.position(v, set()) for v in ex.get("extraPositions", [])]
        q["unphased_priorities"] = [
            UnphasedPriority(alternatives=list(p["list"]), pick=p["pick"])
            for p in ex.get("unphasedDiplotypePriorities", [])
        ]
        return Quirks(**q)
