"""pgx batch: the same calls as the single-sample path, resumable after SIGKILL with identical bytes,
local and Dask engines identical, bad samples recorded without stopping the batch."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pgx.batch.models import BatchPlan
from pgx.batch.outputs import call_report
from pgx.calling.pipeline import call_vcf
from pgx.errors import SimulationError
from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text
from tests.conftest import SHARED, needs_shared, run_pgx

GENES = ["CYP2C19", "CYP2C9", "CYP2D6", "TPMT", "NUDT15", "SLCO1B1"]


def _cohort(kb, n: int, seed: int) -> str:
    """A multi-sample VCF of random diplotypes, some samples with positions missing."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        specs = []
        for gene in GENES:
            names = [a.name for a in kb.gene(gene).named_alleles]
            specs.append(GeneSpec(gene, f"{rng.choice(names)}/{rng.choice(names)}"))
        missing = set(rng.sample([p.position for p in kb.gene("CYP2C19").positions], 2)) if i % 7 == 0 else set()
        spec = SampleSpec(name=f"S{i:04d}", genes=specs, missing=missing)
        try:
            simulate_vcf_text(kb, [spec])
        except SimulationError:
            spec.genes = [g for g in specs if g.gene != "CYP2D6"]
        samples.append(spec)
    return simulate_vcf_text(kb, samples)


@pytest.fixture(scope="module")
def cohort_vcf(tmp_path_factory, kb) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.vcf"
    path.write_text(_cohort(kb, 150, seed=20261125))
    return path


def _results(outdir: Path) -> dict[str, bytes]:
    """Every result file (the run record and temporary state aside), by relative path."""
    out = {}
    for f in sorted(outdir.rglob("*")):
        rel = f.relative_to(outdir).as_posix()
        if f.is_file() and not rel.startswith(".pgx-batch") and rel != "manifest.json":
            out[rel] = f.read_bytes()
    manifest = json.loads((outdir / "manifest.json").read_text())
    manifest.pop("run")
    out["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
    return out


def test_batch_equals_single_sample_calls(tmp_path, kb, cohort_vcf):
    out = tmp_path / "out"
    r = run_pgx("batch", str(cohort_vcf), "-o", str(out), "-w", "2", "--chunk-size", "60")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["samples"] == 150 and manifest["counts"]["failed"] == 0
    plan = BatchPlan.model_validate_json((out / ".pgx-batch/plan.json").read_text())
    assert len(plan.chunks) == 3  # 150 samples in chunks of at most 60
    for i in range(150):
        sample = f"S{i:04d}"
        single = call_vcf(cohort_vcf, samples=[sample], knowledge=kb)
        text = (out / "samples" / f"{sample}.json").read_text()
        # the spliced file is exactly pydantic's serialisation of the same report
        expected = call_report(plan, kb, [single.input], sample, single.samples[0].genes).model_dump_json()
        assert text == expected + "\n"
    rows = [line.split("\t") for line in (out / "calls.tsv").read_text().splitlines()[2:]]
    table = pq.read_table(out / "calls.parquet").to_pylist()
    assert [list(row.values()) for row in table] == rows
    assert len(rows) == 150 * len(kb.vcf_genes())


def test_sigkill_then_resume_gives_identical_bytes(tmp_path, cohort_vcf):
    whole = tmp_path / "whole"
    assert run_pgx("batch", str(cohort_vcf), "-o", str(whole), "-w", "1", "--chunk-size", "10").returncode == 0
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "pgx", "batch", str(cohort_vcf), "-o", str(killed), "-w", "1", "--chunk-size", "10"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records = killed / ".pgx-batch" / "chunks"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if records.is_dir() and len(list(records.glob("*.json"))) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(records.glob("*.json")))
    assert 3 <= done < 15, "the kill must land mid-batch"
    assert not (killed / "manifest.json").exists()
    r = run_pgx("batch", str(cohort_vcf), "-o", str(killed), "-w", "1", "--chunk-size", "10")
    assert r.returncode == 0, r.stderr
    assert f"resuming {killed}: {done * 10} of 150 samples already done" in r.stderr
    assert _results(killed) == _results(whole)
    assert not list(killed.rglob("*.part"))
    assert json.loads((killed / "manifest.json").read_text())["run"]["slices_done_before"] == done


def test_dask_engine_matches_local(tmp_path, cohort_vcf):
    pytest.importorskip("dask.distributed")
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert run_pgx("batch", str(cohort_vcf), "-o", str(local), "-w", "1", "--chunk-size", "40").returncode == 0
    r = run_pgx("batch", str(cohort_vcf), "-o", str(dask), "--engine", "dask", "-w", "2", "--chunk-size", "40")
    assert r.returncode == 0, r.stderr
    assert _results(dask) == _results(local)


def test_dask_scheduler_address_matches_local(tmp_path, cohort_vcf):
    distributed = pytest.importorskip("dask.distributed")
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert run_pgx("batch", str(cohort_vcf), "-o", str(local), "-w", "1", "--chunk-size", "70").returncode == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        r = run_pgx(
            "batch",
            str(cohort_vcf),
            "-o",
            str(remote),
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--chunk-size",
            "70",
        )
    assert r.returncode == 0, r.stderr
    assert _results(remote) == _results(local)


def test_bad_sample_is_recorded_and_the_batch_goes_on(tmp_path, cohort_vcf):
    lines = cohort_vcf.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    cols = lines[first].split("\t")
    cols[9 + 5] = "0/7"  # S0005: an allele index the record does not have
    lines[first] = "\t".join(cols)
    bad = tmp_path / "bad.vcf"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    r = run_pgx("batch", str(bad), "-o", str(out), "-w", "1")
    assert r.returncode == 3, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    failed = [s for s in manifest["samples"] if s["status"] == "failed"]
    assert [s["sample"] for s in failed] == ["S0005"]
    assert "bad.vcf" in failed[0]["reason"] and "allele index 7" in failed[0]["reason"]
    assert not (out / "samples" / "S0005.json").exists()
    assert manifest["counts"]["ok"] == 149 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("sample\tmedications\nNOPE\tparoxetine\n", "bad.tsv:2: sample 'NOPE' is not in the batch"),
        ("sample\tmedications\nS0001\tparoxetine\nS0001\tfluoxetine\n", "bad.tsv:3: sample 'S0001' appears twice"),
        ("patient\tdrugs\nS0001\tparoxetine\n", "bad.tsv:1: header needs 'sample' and 'medications'"),
        ("sample\tmedications\nS0001\n", "bad.tsv:2: 1 columns, the header has 2"),
    ],
)
def test_bad_meds_table_is_refused_before_anything_is_written(tmp_path, cohort_vcf, table, message):
    meds = tmp_path / "bad.tsv"
    meds.write_text(table)
    out = tmp_path / "out"
    r = run_pgx("batch", str(cohort_vcf), "-o", str(out), "--report", "--meds-table", str(meds))
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_output_folder_of_another_batch_is_refused(tmp_path, cohort_vcf):
    out = tmp_path / "out"
    samples = tmp_path / "samples.txt"
    samples.write_text("# two samples\nS0001\nS0002\n")
    assert run_pgx("batch", str(cohort_vcf), "-o", str(out), "--samples", str(samples)).returncode == 0
    r = run_pgx("batch", str(cohort_vcf), "-o", str(out), "--missing-to-ref", "--samples", str(samples))
    assert r.returncode == 2 and "holds a batch with different options" in r.stderr
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["S0001.json", "S0002.json"]


def test_reports_with_medications(tmp_path, cohort_vcf):
    meds = tmp_path / "meds.tsv"
    meds.write_text("sample\tmedications\nS0003\tparoxetine, omeprazole\n")
    out = tmp_path / "out"
    samples = tmp_path / "samples.txt"
    samples.write_text("S0003\nS0004\n")
    r = run_pgx(
        "batch", str(cohort_vcf), "-o", str(out), "--samples", str(samples), "--report", "--meds-table", str(meds)
    )
    assert r.returncode == 0, r.stderr
    for sample, medications in (("S0003", ["paroxetine", "omeprazole"]), ("S0004", [])):
        report = json.loads((out / "reports" / f"{sample}.json").read_text())
        direct = json.loads(
            run_pgx(
                "report",
                str(cohort_vcf),
                "-s",
                sample,
                "-f",
                "json",
                *(["--meds", ",".join(medications)] if medications else []),
            ).stdout
        )
        assert report["samples"] == direct["samples"]
        assert (out / "reports" / f"{sample}.html").read_text().count(sample) >= 2


@needs_shared
def test_per_gene_files_are_joined_by_sample(tmp_path, kb):
    files = [SHARED / "data/1kgp/GRCh38" / f"{g}.vcf.gz" for g in ("CYP2C19", "CYP2C9", "G6PD")]
    samples = tmp_path / "samples.txt"
    samples.write_text("\n".join(["HG00096", "HG00097", "NA12878", "HG02461", "NA19238"]) + "\n")
    out = tmp_path / "out"
    r = run_pgx("batch", *map(str, files), "-o", str(out), "--samples", str(samples), "--missing-to-ref")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["genes"] for i in manifest["inputs"]] == [["CYP2C19"], ["CYP2C9"], ["G6PD"]]
    for sample in samples.read_text().split():
        doc = json.loads((out / "samples" / f"{sample}.json").read_text())
        got = {g["gene"]: g for g in doc["samples"][0]["genes"]}
        for f, gene in zip(files, ("CYP2C19", "CYP2C9", "G6PD"), strict=True):
            single = call_vcf(f, samples=[sample], genes=[gene], missing_to_ref=True, knowledge=kb)
            assert got[gene] == single.samples[0].genes[0].model_dump(mode="json")
        assert got["TPMT"]["reason_code"] == "no_data"
        # phased input stays phased when absent positions are filled as reference
        assert got["CYP2C19"]["phased"] is True and got["CYP2C9"]["phased"] is True
