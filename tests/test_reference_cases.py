"""Agreement with the reference tool on its own matcher test cases and example reports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pgx.calling.pipeline import call_vcf
from tests.conftest import SHARED, needs_shared


def _matcher_cases() -> list[dict[str, str]]:
    if SHARED is None:
        return []
    with open(SHARED / "testdata/pharmcat_matcher_cases/expected.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@needs_shared
@pytest.mark.parametrize("case", _matcher_cases(), ids=lambda c: c["source_test"].split(":")[-1])
def test_matcher_case(case: dict[str, str], kb) -> None:
    """Expected diplotypes in score order; all fitting diplotypes unless only the top is expected."""
    top_only = "topCandidateOnly=true" in (case["mode"] or "")
    vcf = SHARED / "testdata/pharmcat_matcher_cases" / case["vcf"]  # type: ignore[operator]
    report = call_vcf(vcf, genes=[case["gene"]], all_matches=not top_only, knowledge=kb)
    call = report.samples[0].genes[0]
    got = [d.name for d in call.diplotypes] + [d.name for d in call.other_matches]
    assert got == case["expected_diplotypes_in_score_order"].split("|")


def _report_rows(tsv: Path) -> list[dict[str, str]]:
    lines = tsv.read_text().splitlines()[1:]  # first line is the tool's version banner
    return list(csv.DictReader(lines, delimiter="\t"))


EXAMPLES = [("pharmcat.example", "pharmcat.example.outsideCall.tsv"), ("pharmcat.example2", None)]


@needs_shared
@pytest.mark.parametrize("example,outside", EXAMPLES)
def test_example_reports(example: str, outside: str | None, kb) -> None:
    base = SHARED / "data/pharmcat/examples"  # type: ignore[operator]
    report = call_vcf(base / f"{example}.vcf", outside_calls=base / outside if outside else None, knowledge=kb)
    calls = {g.gene: g for g in report.samples[0].genes}
    rows = _report_rows(base / f"{example}.report.tsv")
    assert len(rows) >= 19
    compared = 0
    for row in rows:
        if row["Gene"] not in calls:
            continue
        call = calls[row["Gene"]]
        assert call.status == "called", (row["Gene"], call.reason)
        assert " OR ".join(d.name for d in call.diplotypes) == row["Source Diplotype"], row["Gene"]
        assert " OR ".join(call.phenotypes) == row["Phenotype"].strip(), row["Gene"]
        if row["Activity Score"]:
            assert call.activity_scores == [float(row["Activity Score"])], row["Gene"]
        compared += 1
    assert compared == len(rows)
    if outside:
        assert calls["CYP2D6"].source == "outside_call"
        assert {"HLA-B", "MT-RNR1"} <= set(calls)
