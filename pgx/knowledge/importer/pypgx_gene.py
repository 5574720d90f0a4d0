"""Genes that only PyPGx's tables define (``pypgx_genes`` in knowledge/curation.yaml; F5 today).

PharmCAT's definitions cover 20 genes, but guidelines also key on others: DPWG's
recommendation for estrogen-containing contraceptives keys on Factor V Leiden (F5 rs6025),
which PyPGx's tables describe. A gene listed under ``pypgx_genes`` is built from four of them,
each checked against the others, so a disagreement stops the import instead of being guessed:

- ``gene-table.csv``: strand, regions (both builds), the reference allele, the phenotype method;
- ``allele-table.csv``: named alleles with function, activity value and GRCh38 core variants
  (``chr-pos-ref-alt``); a position an allele does not list carries the reference base;
- ``variant-table.csv``: each core variant's rsID, GRCh38 reference base and GRCh37 locus. Each
  allele's GRCh37 core variants must describe the same bases as its GRCh38 ones lifted through
  this table. For F5 that looks odd but holds: GRCh37's reference sequence carries the Leiden
  base (T), so on GRCh37 it is the *Reference* allele that has a core variant (T>C);
- ``diplotype-table.csv`` and ``phenotype-table.csv``: diplotype -> phenotype, compacted into
  function-pair rules (the schema's way of saying it) that reproduce every row by construction.

Supported: alleles made of SNVs and indels, and PyPGx's ``Diplotype`` phenotype method.
Structural alleles, activity-score genes and a reference allele with GRCh38 core variants are
import errors until a gene needs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pgx.diplotype import Diplotype
from pgx.errors import ImportSourceError
from pgx.knowledge.curation import PypgxGeneEntry
from pgx.knowledge.importer import sources as S
from pgx.knowledge.importer.gene_builder import GeneBuilder
from pgx.knowledge.importer.tables import activity, function_label, pair_rules, region
from pgx.knowledge.schema import Gene, NamedAllele, Phenotyping, Position
from pgx.naming import allele_key

FUNCTION_SOURCE = "PyPGx allele table"

_Variant = tuple[str, int, str, str]  # chromosome as PyPGx writes it, position, ref, alt


def parse_variants(text: str | None, where: str) -> list[_Variant]:
    """``1-169549811-C-T,1-...`` -> [(chrom, pos, ref, alt)]; ``N/A`` or empty -> []."""
    if S.na(text) is None:
        return []
    out = []
    for item in (text or "").split(","):
        parts = item.strip().split("-")
        if (
            len(parts) != 4
            or not parts[1].isdigit()
            or not parts[2]
            or not parts[3]
            or set(parts[2].upper() + parts[3].upper()) - set("ACGT")
        ):
            raise ImportSourceError(f"{where}: cannot read variant {item.strip()!r} (expected chr-pos-ref-alt)")
        out.append((parts[0], int(parts[1]), parts[2].upper(), parts[3].upper()))
    return out


def _chromosome(name: str) -> str:
    return name if name.startswith("chr") else f"chr{name}"


class PypgxGene:
    """Builds one gene from PyPGx's tables; ``builder`` supplies the shared position and quirk logic.

    ``spec`` is the gene's ``pypgx_genes`` entry (a plain mapping is validated as one).
    """

    def __init__(
        self, src: S.SourceTree, builder: GeneBuilder, name: str, spec: PypgxGeneEntry | Mapping[str, Any]
    ) -> None:
        self.src = src
        self.builder = builder
        self.name = name
        self.spec = spec if isinstance(spec, PypgxGeneEntry) else PypgxGeneEntry.model_validate(dict(spec))
        self.where = f"pypgx tables, gene {name}"

    def build(self) -> Gene:
        info = S.pypgx_gene(self.src, self.name)
        if info is None:
            raise ImportSourceError(f"curation.yaml pypgx_genes: {self.name} is not in pypgx/gene-table.csv")
        rows = S.pypgx_rows(self.src, "allele-table.csv", self.name)
        if not rows:
            raise ImportSourceError(f"curation.yaml pypgx_genes: {self.name} has no rows in pypgx/allele-table.csv")
        ref_name = info["RefAllele"]
        names = [r["StarAllele"] for r in rows]
        if len(set(names)) != len(names):
            raise ImportSourceError(f"{self.where}: an allele is listed twice in allele-table.csv")
        if ref_name not in names:
            raise ImportSourceError(f"{self.where}: reference allele {ref_name!r} is not in allele-table.csv")
        structural = [r["StarAllele"] for r in rows if r["SV"].strip().upper() == "TRUE"]
        if structural:
            raise ImportSourceError(f"{self.where}: structural alleles {structural} are not supported here")
        core = {r["StarAllele"]: parse_variants(r["GRCh38Core"], f"{self.where}, {r['StarAllele']}") for r in rows}
        if core[ref_name]:
            raise ImportSourceError(
                f"{self.where}: reference allele {ref_name} has GRCh38 core variants (the GRCh38 reference "
                "sequence does not carry it); not supported"
            )
        region_chrom = (info["GRCh38Region"] or "").split(":")[0]
        chroms = {v[0] for vs in core.values() for v in vs} | {region_chrom}
        if len(chroms) != 1:
            raise ImportSourceError(f"{self.where}: variants and region on several chromosomes {sorted(chroms)}")
        positions = self.positions(core)
        alleles = self.named_alleles(rows, core, ref_name, positions)
        self.check_grch37(rows, positions, alleles)
        phenotyping = self.phenotyping(info, alleles)
        self.builder.check_quirks(("pypgx_genes", self.name), self.spec.quirks, positions, alleles, [])
        return Gene(
            gene=self.name,
            chromosome=_chromosome(region_chrom),
            strand=info["Strand"] if info["Strand"] in ("+", "-") else None,
            region=region(info["GRCh38Region"]),
            grch37_region=region(info["GRCh37Region"]),
            positions=positions,
            named_alleles=alleles,
            phenotyping=phenotyping,
            quirks=self.builder.quirks(self.name, {}, self.spec.quirks, {a.name for a in alleles}),
        )

    def positions(self, core: dict[str, list[_Variant]]) -> list[Position]:
        """One position per distinct GRCh38 core-variant site, with rsID and GRCh37 locus from the variant table."""
        variants = {r["GRCh38Name"]: r for r in S.pypgx_rows(self.src, "variant-table.csv", self.name)}
        sites: dict[int, tuple[str, list[str], str | None]] = {}
        for allele, vs in core.items():
            for chrom, pos, ref, alt in vs:
                key = f"{chrom}-{pos}-{ref}-{alt}"
                row = variants.get(key)
                if row is None:
                    raise ImportSourceError(f"{self.where}: {allele} core variant {key} is not in variant-table.csv")
                if row["GRCh38Allele"].upper() != ref:
                    raise ImportSourceError(
                        f"{self.where}: {key}: variant-table.csv gives GRCh38 reference {row['GRCh38Allele']!r}"
                    )
                site_ref, alts, rsid = sites.setdefault(pos, (ref, [], S.na(row["rsID"])))
                if site_ref != ref:
                    raise ImportSourceError(
                        f"{self.where}: position {pos} written with two reference alleles ({site_ref}, {ref})"
                    )
                if alt not in alts:
                    alts.append(alt)
        return [
            self.builder.position({"position": pos, "ref": ref, "alts": alts, "rsid": rsid}, set())
            for pos, (ref, alts, rsid) in sorted(sites.items())
        ]

    def named_alleles(
        self, rows: list[dict[str, str]], core: dict[str, list[_Variant]], ref_name: str, positions: list[Position]
    ) -> list[NamedAllele]:
        out = []
        for r in rows:
            name = r["StarAllele"]
            defining = {p.position: p.ref for p in positions} if name == ref_name else {}
            if name != ref_name and not core[name]:
                raise ImportSourceError(f"{self.where}: {name} has no GRCh38 core variant, so it cannot be called")
            for _, pos, _, alt in core[name]:
                if pos in defining:
                    raise ImportSourceError(f"{self.where}: {name} lists two variants at position {pos}")
                defining[pos] = alt
            out.append(
                NamedAllele(
                    name=name,
                    reference=name == ref_name,
                    function=function_label(S.na(r["Function"])),
                    activity_value=activity(S.na(r["ActivityScore"])),
                    function_source=FUNCTION_SOURCE,
                    alleles=defining,
                )
            )
        return sorted(out, key=lambda a: allele_key(a.name, a.reference))

    def check_grch37(self, rows: list[dict[str, str]], positions: list[Position], alleles: list[NamedAllele]) -> None:
        """Each allele's GRCh37 core variants name the bases its GRCh38 definition lifts to (SNV sites)."""
        snv_sites = [
            p for p in positions if p.grch37 is not None and len(p.ref) == 1 and all(len(a) == 1 for a in p.alts)
        ]
        by_name = {a.name: a for a in alleles}
        for r in rows:
            name = r["StarAllele"]
            carried37 = {
                pos: alt for _, pos, _, alt in parse_variants(r["GRCh37Core"], f"{self.where}, {name} (GRCh37)")
            }
            for p in snv_sites:
                assert p.grch37 is not None
                expected = by_name[name].alleles.get(p.position, p.ref)
                stated = carried37.pop(p.grch37.position, p.grch37.ref)
                if stated != expected:
                    raise ImportSourceError(
                        f"{self.where}: {name} carries {expected} at GRCh38 {p.position} but {stated} at "
                        f"GRCh37 {p.grch37.position} (allele-table.csv GRCh37Core)"
                    )
            lifted = {p.grch37.position for p in positions if p.grch37 is not None}
            unexplained = sorted(set(carried37) - lifted)
            if unexplained:
                raise ImportSourceError(
                    f"{self.where}: {name} has GRCh37 core variants at {unexplained} with no GRCh38 site"
                )

    def phenotyping(self, info: dict[str, str], alleles: list[NamedAllele]) -> Phenotyping:
        """PyPGx's ``Diplotype`` method: the diplotype table, compacted into function-pair rules."""
        if info["PhenotypeMethod"] != "Diplotype":
            raise ImportSourceError(
                f"{self.where}: phenotype method {info['PhenotypeMethod']!r} is not supported (only 'Diplotype')"
            )
        functions = {a.name: a.function for a in alleles}
        known = {r["Phenotype"] for r in S.pypgx_rows(self.src, "phenotype-table.csv", self.name)}
        pairs: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for row in S.pypgx_rows(self.src, "diplotype-table.csv", self.name):
            names = list(Diplotype.parse(row["Diplotype"]).haplotypes)
            if len(names) != 2 or any(functions.get(n) is None for n in names):
                raise ImportSourceError(
                    f"{self.where}: diplotype {row['Diplotype']!r} names an allele without a function or not "
                    "in allele-table.csv"
                )
            if row["Phenotype"] not in known:
                raise ImportSourceError(f"{self.where}: phenotype {row['Phenotype']!r} is not in phenotype-table.csv")
            pairs[tuple(sorted(functions[n] or "" for n in names))].add(row["Phenotype"])
        if not pairs:
            raise ImportSourceError(f"{self.where}: no rows in diplotype-table.csv")
        return Phenotyping(method="function_pair", function_pairs=pair_rules(pairs, f"{self.where} diplotype table"))


def pypgx_genes(src: S.SourceTree, builder: GeneBuilder, defined: set[str]) -> dict[str, Gene]:
    """Every gene the builder's curation lists under ``pypgx_genes``; one another source defines is an error."""
    out: dict[str, Gene] = {}
    for name, spec in builder.curation.value.pypgx_genes.items():
        if name in defined:
            raise builder.curation.error_at(
                ("pypgx_genes", name), "already defined by PharmCAT or outside_only", at_key=True
            )
        out[name] = PypgxGene(src, builder, name, spec).build()
    return out
