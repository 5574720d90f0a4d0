"""The bundled sample VCFs are exactly what `pgx simulate` makes from their specs today."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import REPO, run_pgx

CASES = [("patient_001.vcf", []), ("trio_phased.vcf.gz", ["--phased"])]


def _body(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if not ln.startswith("##source=")]


@pytest.mark.parametrize("name,flags", CASES)
def test_sample_vcf_is_reproducible(name: str, flags: list[str], tmp_path: Path) -> None:
    spec = REPO / "sample_vcfs" / (name.split(".")[0] + ".spec.tsv")
    out = tmp_path / name
    proc = run_pgx("simulate", "--spec", str(spec), *flags, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    committed = REPO / "sample_vcfs" / name
    read = (lambda p: gzip.decompress(p.read_bytes()).decode()) if name.endswith(".gz") else Path.read_text
    assert _body(read(out)) == _body(read(committed))
