"""PharmCAT's ``ignoredPositions`` (exemptions.json) need no field in pgx's knowledge.

PharmCAT applies them when it writes its allele definitions: its DataManager removes every
definition variant matching one (by rsID, else by HGVS name), and nothing at call time reads
them again. The definitions pgx imports therefore already lack them, which the importer checks.
A VCF record of one of those shapes is read by pgx's general rules: rs2230037 (G6PD) is at no
defined position, so the reader never keeps it (the 1000 Genomes file has it at 78 %); the two
deletions start at a defined SNV's position but change only the bases after it, so they never
make the gene undocumented.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from pgx.calling.pipeline import call_vcf
from pgx.errors import ImportSourceError
from pgx.knowledge.importer.gene_builder import check_ignored_positions
from pgx.knowledge.loader import KnowledgeBase
from pgx.vcf.reader import read_vcf
from pgx.vcf.targets import build_targets
from tests.conftest import SHARED, needs_shared
from tests.vcfbuild import from_simulation


def _exemptions() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SHARED / "data/pharmcat/definition/exemptions.json").read_text())  # type: ignore[operator]
    return data


def _ignored() -> list[tuple[str, dict[str, Any]]]:
    if SHARED is None:
        return []
    return [(g, v) for g, e in sorted(_exemptions().items()) for v in e.get("ignoredPositions", [])]


def _label(case: tuple[str, dict[str, Any]]) -> str:
    gene, v = case
    return f"{gene}:{v['position']}:{v['ref']}>{','.join(v['alts'])}"


@needs_shared
def test_the_exemptions_list_three() -> None:
    assert [_label(c) for c in _ignored()] == [
        "G6PD:154532439:A>G",
        "G6PD:154532990:CGGT>C",
        "RYR1:38580126:CA>C",
    ]


@needs_shared
@pytest.mark.parametrize("case", _ignored(), ids=_label)
def test_no_definition_holds_an_ignored_position(case: tuple[str, dict[str, Any]], kb: KnowledgeBase) -> None:
    gene, v = case
    for p in kb.gene(gene).positions:
        assert (p.position, p.ref, p.alts) != (v["position"], v["ref"], v["alts"])
        assert p.hgvs != v["chromosomeHgvsName"] and (v["rsid"] is None or p.rsid != v["rsid"])


@needs_shared
def test_importer_refuses_a_definition_that_still_holds_one() -> None:
    definition = json.loads((SHARED / "data/pharmcat/definition/G6PD_translation.json").read_text())  # type: ignore[operator]
    exemption = _exemptions()["G6PD"]
    check_ignored_positions("G6PD", definition, exemption)  # the shipped pair is consistent
    kept = next(v for v in definition["variants"] if v["rsid"] == "rs5030869")  # the SNV at 154532990
    doctored = {**exemption, "ignoredPositions": [*exemption["ignoredPositions"], {"rsid": kept["rsid"]}]}
    with pytest.raises(ImportSourceError, match=r"G6PD_translation\.json: variant rs5030869 at 154532990"):
        check_ignored_positions("G6PD", definition, doctored)


def _reference(kb: KnowledgeBase, gene: str) -> str:
    ref = next(a.name for a in kb.gene(gene).named_alleles if a.reference)
    return f"{ref}/{ref}"


KEYS = ("status", "diplotypes", "phenotypes", "warnings", "variants_found", "missing_positions", "positions_called")


@needs_shared
@pytest.mark.parametrize("case", _ignored(), ids=_label)
@pytest.mark.parametrize("replace_snv_record", [False, True], ids=["beside-snv-record", "instead-of-snv-record"])
def test_a_record_of_an_ignored_shape_changes_no_call(
    case: tuple[str, dict[str, Any]], replace_snv_record: bool, tmp_path: Path, kb: KnowledgeBase
) -> None:
    """A heterozygous record of each shape in a reference sample: the call is the sample's call without it.

    Instead of the SNV's own (reference) record, a deletion starting there informs the SNV position
    just as well: its REF carries the SNV's reference base on both strands.
    """
    gene, v = case
    vcf = from_simulation(kb, gene, _reference(kb, gene))
    expected = call_vcf(vcf.write(tmp_path / "plain.vcf"), genes=[gene], knowledge=kb).samples[0].genes[0]
    assert expected.status == "called" and not expected.missing_positions
    if replace_snv_record:
        vcf.records = [r for r in vcf.records if r.pos != v["position"]]
    vcf.add(v["chromosome"], v["position"], v["ref"], v["alts"][0], "0/1")
    call = call_vcf(vcf.write(tmp_path / "with.vcf"), genes=[gene], knowledge=kb).samples[0].genes[0]
    assert {k: getattr(call, k) for k in KEYS} == {k: getattr(expected, k) for k in KEYS}


@needs_shared
def test_1000_genomes_rs2230037_is_never_read(kb: KnowledgeBase) -> None:
    """Real data: the panel holds rs2230037 (chrX:154532439 A>G) for 3,202 samples; no G6PD locus is there."""
    path = SHARED / "data/1kgp/GRCh38/G6PD.vcf.gz"  # type: ignore[operator]
    data = read_vcf(path, build_targets(kb, ["G6PD"]))
    kept = {r.pos for r in data.records.get("chrX", [])}
    assert kept and 154532439 not in kept
    with gzip.open(path, "rt") as fh:
        assert any(line.split("\t", 2)[1] == "154532439" for line in fh if not line.startswith("#"))
