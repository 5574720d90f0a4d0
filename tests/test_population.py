"""Real genotypes: 3202 high-coverage 1000 Genomes samples (GRCh38 per-gene files).

Every sample must get a call or a stated reason for every gene, and allele frequencies of
well-known alleles must land near their published population values.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from pgx.calling.pipeline import call_vcf
from tests.conftest import SHARED, needs_shared


def _gene_files() -> list[Path]:
    if SHARED is None:
        return []
    return sorted((SHARED / "data/1kgp/GRCh38").glob("*.vcf.gz"))


@needs_shared
@pytest.mark.parametrize("path", _gene_files(), ids=lambda p: p.name.split(".")[0])
def test_every_sample_gets_a_call_or_a_reason(path: Path, kb) -> None:
    gene = path.name.split(".")[0]
    report = call_vcf(path, genes=[gene], knowledge=kb)
    assert len(report.samples) == 3202
    for s in report.samples:
        (call,) = s.genes
        if call.status == "called":
            assert call.diplotypes and all(d.name for d in call.diplotypes)
        else:
            assert call.reason and call.reason_code, (s.sample, gene)


def _super_pops() -> dict[str, str]:
    with open(SHARED / "data/1kgp/samples.panel", newline="") as fh:  # type: ignore[operator]
        return {r["sample"]: r["super_pop"] for r in csv.DictReader(fh, delimiter="\t")}


def _frequencies(gene: str, kb) -> dict[str, dict[str, float]]:
    """Haplotype frequency per super-population; tied diplotypes share a sample's weight."""
    pops = _super_pops()
    report = call_vcf(SHARED / f"data/1kgp/GRCh38/{gene}.vcf.gz", genes=[gene], knowledge=kb)  # type: ignore[operator]
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    totals: dict[str, float] = defaultdict(float)
    for s in report.samples:
        call = s.genes[0]
        pop = pops.get(s.sample)
        if pop is None or call.status != "called":
            continue
        w = 1 / len(call.diplotypes)
        for d in call.diplotypes:
            for h in d.haplotypes:
                counts[pop][h.name] += w
                totals[pop] += w
    return {p: {a: c / totals[p] for a, c in alleles.items()} for p, alleles in counts.items()}


@needs_shared
@pytest.mark.parametrize(
    "gene,alleles,pop,low,high",
    [
        ("CYP2C19", ("*2",), "EUR", 0.10, 0.20),
        ("CYP2C19", ("*2",), "EAS", 0.25, 0.38),
        ("CYP2C19", ("*17",), "EUR", 0.15, 0.27),
        ("CYP2C19", ("*17",), "EAS", 0.00, 0.04),
        ("CYP3A5", ("*3",), "EUR", 0.85, 0.97),
        ("CYP3A5", ("*3",), "AFR", 0.10, 0.30),
        ("NUDT15", ("*2", "*3"), "EAS", 0.07, 0.14),  # both carry R139C (rs116855232)
        ("VKORC1", ("rs9923231 variant (T)",), "EAS", 0.85, 0.96),
        ("VKORC1", ("rs9923231 variant (T)",), "EUR", 0.32, 0.48),
        ("TPMT", ("*3A",), "EUR", 0.02, 0.06),
    ],
    ids=lambda x: "+".join(x) if isinstance(x, tuple) else str(x),
)
def test_known_allele_frequencies(gene: str, alleles: tuple[str, ...], pop: str, low: float, high: float, kb) -> None:
    table = _frequencies(gene, kb)[pop]
    freq = sum(table.get(a, 0.0) for a in alleles)
    assert low <= freq <= high, f"{gene} {'+'.join(alleles)} in {pop}: {freq:.3f} outside [{low}, {high}]"


@needs_shared
def test_missing_to_ref_never_fills_past_the_file(kb) -> None:
    """The IFNL3 file ends 169 bp before rs12979860: the opt-in must not invent a call there."""
    path = SHARED / "data/1kgp/GRCh38/IFNL3.vcf.gz"  # type: ignore[operator]
    report = call_vcf(path, genes=["IFNL3"], samples=["HG00096"], missing_to_ref=True, knowledge=kb)
    call = report.samples[0].genes[0]
    assert call.status == "not_called" and call.reason_code == "no_data"
    assert report.options.missing_to_ref is True


@needs_shared
def test_missing_to_ref_is_recorded_per_gene(kb) -> None:
    path = SHARED / "data/1kgp/GRCh38/CYP2B6.vcf.gz"  # type: ignore[operator]
    call = call_vcf(path, genes=["CYP2B6"], samples=["HG00096"], missing_to_ref=True, knowledge=kb).samples[0].genes[0]
    note = next(w for w in call.warnings if w.code == "filled_as_reference")
    assert "read as reference (--missing-to-ref)" in note.message
