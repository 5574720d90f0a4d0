"""What the knowledge base holds and where each fact came from, as plain rows for listings.

``pgx genes`` shows these: a lab validating pgx needs to see not only which genes and alleles
are covered but from which release of which source (version, commit, licence), which
PharmCAT definition each gene was imported from, and why an allele's function is what it is
when it did not come from the primary table.
"""

from __future__ import annotations

from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import Gene, Region


def sources(kb: KnowledgeBase) -> list[dict[str, object]]:
    """Every source the knowledge was built from, with its release, commit and licence."""
    return [
        {"name": s.name, "version": s.version, "commit": s.commit, "license": s.license, "files": list(s.files)}
        for s in kb.manifest.sources
    ]


def _region(region: Region | None) -> str | None:
    return f"{region.start}-{region.end}" if region is not None else None


def gene_rows(kb: KnowledgeBase) -> list[dict[str, object]]:
    """One row per gene: where it is (both builds), what defines it, how it is called and phenotyped."""
    return [
        {
            "gene": g.gene,
            "chromosome": g.chromosome,
            "strand": g.strand,
            "region": _region(g.region),
            "grch37_region": _region(g.grch37_region),
            "definition_version": g.definition_version,
            "positions": len(g.positions),
            "alleles": len(g.named_alleles),
            "calling": g.quirks.calling,
            "phenotyping": g.phenotyping.method,
        }
        for g in sorted(kb.genes.values(), key=lambda g: g.gene)
    ]


def allele_rows(gene: Gene) -> list[dict[str, object]]:
    """One row per named allele, with where its function came from when not from the primary table."""
    return [
        {
            "allele": a.name,
            "function": a.function,
            "activity_value": a.activity_value,
            "function_source": a.function_source,
            "positions": len(a.alleles),
        }
        for a in gene.named_alleles
    ]


def position_rows(gene: Gene) -> list[dict[str, object]]:
    """One row per position the gene's alleles are defined at (GRCh38, VCF style), with its HGVS name."""
    return [
        {"position": p.position, "rsid": p.rsid, "ref": p.ref, "alts": list(p.alts), "hgvs": p.hgvs}
        for p in gene.positions
    ]
