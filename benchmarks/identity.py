"""Prove that a restructuring changed no output: the same documents, byte for byte, from two pgx installs.

Why: a refactor that moves code between stages should leave every call and every flag as it
was. This script writes what `pgx call` and `pgx report` produce for a fixed set of inputs,
with the version fields blanked (they name the code, not the answer), and compares two such
folders file by file.

Inputs:

* the bundled sample VCFs (``sample_vcfs/*.vcf*``);
* 200 real 1000 Genomes samples (every 16th of the 3,202, so every population is in) from all
  GRCh38 gene files in ``../shared/data/1kgp/GRCh38``, joined into one multi-gene VCF.

Outputs per input: ``pgx call`` JSON (strict and ``--missing-to-ref`` for the 1000 Genomes
file, which is variant-only), ``pgx report`` JSON for every drug without and with
``--meds paroxetine`` (and the drug TSV). Version fields blanked: ``pgx_version``,
``knowledge_version``, ``rules_version``, ``schema_version``.

    python benchmarks/identity.py write --pgx /tmp/venv-old/bin/pgx --out /tmp/identity/before
    python benchmarks/identity.py write --pgx .venv/bin/pgx --out /tmp/identity/after
    python benchmarks/identity.py compare /tmp/identity/before /tmp/identity/after
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pysam
from results_md import machine, source_state, write_section

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "1kgp" / "GRCh38"
HEADING = "## Restructuring identity: the same outputs before and after"
VERSION_FIELDS = ("pgx_version", "knowledge_version", "rules_version", "schema_version")
# "pgx 0.1.0", "knowledge 2025-11-05.2", "rules 1.1+8f95563197" (TSV first line, HTML footer), "schema 1.2"
_VERSION_TEXT = re.compile(r"\b(pgx|knowledge|rules|schema)(_version)?([ =:]+)[0-9][0-9A-Za-z.+-]*")


def build_cohort(data: Path, out: Path, every: int = 16, count: int = 200) -> Path:
    """One bgzipped, indexed VCF holding every record of every gene file for the chosen samples."""
    target = out / f"1kgp_{count}.vcf.gz"
    if target.exists():
        return target
    files = sorted(data.glob("*.vcf.gz"))
    header_lines: list[str] = []
    contigs: dict[str, str] = {}
    records: list[tuple[str, int, str]] = []
    columns: list[int] | None = None
    names: list[str] | None = None
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("##"):
                    if line.startswith("##contig"):
                        contigs.setdefault(line.split("ID=")[1].split(",")[0].rstrip(">\n"), line)
                    elif line not in header_lines:
                        header_lines.append(line)
                    continue
                cells = line.rstrip("\n").split("\t")
                if line.startswith("#CHROM"):
                    samples = cells[9:]
                    chosen = samples[::every][:count]
                    if names is None:
                        names = chosen
                        columns = [9 + samples.index(s) for s in chosen]
                    elif chosen != names:
                        raise SystemExit(f"{f}: sample order differs from the first file")
                    continue
                assert columns is not None
                records.append((cells[0], int(cells[1]), "\t".join(cells[:9] + [cells[i] for i in columns])))
    assert names is not None
    order = {c: i for i, c in enumerate(sorted(contigs, key=_chrom_key))}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    plain = out / f"1kgp_{count}.vcf"
    with plain.open("w", encoding="utf-8") as fh:
        fh.write(header_lines[0])
        fh.writelines(contigs[c] for c in sorted(contigs, key=_chrom_key))
        fh.writelines(header_lines[1:])
        fh.write("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *names]) + "\n")
        fh.writelines(r[2] + "\n" for r in records)
    pysam.tabix_compress(str(plain), str(target), force=True)
    pysam.tabix_index(str(target), preset="vcf", force=True)
    plain.unlink()
    return target


def _chrom_key(chrom: str) -> tuple[int, str]:
    name = chrom.removeprefix("chr")
    return (int(name), "") if name.isdigit() else (100, name)


def blank_versions(value: object) -> object:
    if isinstance(value, dict):
        return {k: ("-" if k in VERSION_FIELDS else blank_versions(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [blank_versions(v) for v in value]
    return value


def run(pgx: str, args: list[str]) -> str:
    done = subprocess.run([pgx, *args], capture_output=True, text=True, check=False)
    if done.returncode not in (0, 3):
        raise SystemExit(f"{pgx} {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def write(pgx: str, out: Path, data: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    inputs: list[tuple[str, Path, list[str]]] = [
        (p.name.split(".")[0], p, [])
        for p in sorted((ROOT / "sample_vcfs").glob("*.vcf*"))
        if not p.name.endswith(".tbi")
    ]
    if data.is_dir():
        cohort = build_cohort(data, Path("/tmp"))
        inputs.append(("1kgp_200", cohort, []))
        inputs.append(("1kgp_200_ref", cohort, ["--missing-to-ref"]))
    else:
        print(f"note: {data} absent, 1000 Genomes samples left out", file=sys.stderr)
    for name, vcf, extra in inputs:
        docs = {
            f"{name}.call.json": run(pgx, ["call", str(vcf), *extra]),
            f"{name}.report.json": run(pgx, ["report", str(vcf), "-f", "json", *extra]),
            f"{name}.report-paroxetine.json": run(
                pgx, ["report", str(vcf), "-f", "json", "--meds", "paroxetine", *extra]
            ),
            f"{name}.report-paroxetine.tsv": run(
                pgx, ["report", str(vcf), "-f", "tsv", "--meds", "paroxetine", *extra]
            ),
        }
        if not name.startswith("1kgp"):  # one HTML page per sample: 200 of them add nothing the JSON lacks
            docs[f"{name}.report-paroxetine.html"] = run(pgx, ["report", str(vcf), "--meds", "paroxetine", *extra])
        for fname, text in docs.items():
            if fname.endswith(".json"):
                text = json.dumps(blank_versions(json.loads(text)), indent=1, sort_keys=False) + "\n"
            else:
                text = _VERSION_TEXT.sub(r"\1\2\3-", text)
            (out / fname).write_text(text, encoding="utf-8")
            print(f"{fname}\t{hashlib.sha256(text.encode()).hexdigest()[:16]}\t{len(text):,} bytes")


def compare(a: Path, b: Path, write: str | None = None) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    rows: list[tuple[str, str, str]] = []
    for n in names:
        pa, pb = a / n, b / n
        if not pa.exists() or not pb.exists():
            verdict = f"only in {'after' if not pa.exists() else 'before'}"
        elif pa.read_bytes() != pb.read_bytes():
            la, lb = pa.read_text().splitlines(), pb.read_text().splitlines()
            first = next((i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y), min(len(la), len(lb)))
            verdict = f"differs from line {first + 1}"
        else:
            verdict = "identical"
        size = f"{(pb if pb.exists() else pa).stat().st_size:,}"
        rows.append((n, size, verdict))
        print(f"{n}: {verdict} ({size} bytes)")
    same = sum(v == "identical" for _, _, v in rows)
    print(f"{same} of {len(rows)} identical")
    if write is not None:
        table = "\n".join(f"| `{n}` | {s} | {v} |" for n, s, v in rows)
        write_section(
            HEADING,
            f"{HEADING}\n\n{write}\n\n"
            f"Outputs of `pgx call` and `pgx report` written by two installs and compared byte for byte, version "
            "fields blanked (`benchmarks/identity.py`): the bundled sample VCFs, and 200 real 1000 Genomes samples "
            "(every 16th, all GRCh38 gene files joined into one VCF; strict and `--missing-to-ref`).\n\n"
            f"- Machine: {machine()}; after: {source_state(['pgx', 'knowledge', 'rules'], 'pgx/knowledge/rules')}\n"
            f"- {same} of {len(rows)} files identical\n\n| file | bytes | before vs after |\n|---|---|---|\n{table}\n",
        )
    return 0 if same == len(rows) else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write the outputs of one pgx install")
    w.add_argument("--pgx", default="pgx", help="the pgx command to run")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--data", type=Path, default=DEFAULT_DATA, help="1000 Genomes GRCh38 gene files")
    c = sub.add_parser("compare", help="compare two folders written by `write`")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--write", metavar="WHAT", help="record the comparison in RESULTS.md, WHAT naming the two installs")
    args = ap.parse_args()
    if args.cmd == "write":
        write(args.pgx, args.out, args.data)
        return 0
    return compare(args.before, args.after, args.write)


if __name__ == "__main__":
    sys.exit(main())
