"""VCF header: structure checks, samples, contigs, and the genome build the header claims."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pgx.errors import VcfError

FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_META = re.compile(r"^##(\w[\w.-]*)=<(.*)>$")
_KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,]*)')


@dataclass
class Contig:
    id: str
    length: int | None = None
    assembly: str | None = None


@dataclass
class Header:
    fileformat: str
    samples: list[str]
    contigs: dict[str, Contig] = field(default_factory=dict)
    reference: str | None = None
    format_ids: set[str] = field(default_factory=set)
    info_ids: set[str] = field(default_factory=set)
    meta: list[str] = field(default_factory=list)
    lines: int = 0  # number of header lines, #CHROM included

    @property
    def n_columns(self) -> int:
        return len(FIXED_COLUMNS) + (1 + len(self.samples) if self.samples else 0)


def _parse_meta(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _KV.findall(text)}


def parse_header(lines: Iterator[tuple[int, str]], path: str) -> Header:
    """Consume header lines up to and including ``#CHROM``; validate their structure."""
    fileformat = None
    header = Header(fileformat="", samples=[])
    for lineno, line in lines:
        if lineno == 1:
            if not line.startswith("##fileformat=VCF"):
                raise VcfError(path, "missing ##fileformat=VCF header line (is this a VCF?)", line=1)
            fileformat = line.split("=", 1)[1]
            header.meta.append(line)
            continue
        if line.startswith("##"):
            header.meta.append(line)
            m = _META.match(line)
            if m:
                kind, body = m.group(1), _parse_meta(m.group(2))
                if kind == "contig" and "ID" in body:
                    length = body.get("length")
                    header.contigs[body["ID"]] = Contig(
                        id=body["ID"],
                        length=int(length) if length and length.isdigit() else None,
                        assembly=body.get("assembly"),
                    )
                elif kind == "FORMAT" and "ID" in body:
                    header.format_ids.add(body["ID"])
                elif kind == "INFO" and "ID" in body:
                    header.info_ids.add(body["ID"])
            elif line.startswith("##reference="):
                header.reference = line.split("=", 1)[1]
            continue
        if line.startswith("#CHROM"):
            header.fileformat = fileformat or ""
            header.lines = lineno
            header.samples = _parse_chrom_line(line, lineno, path)
            return header
        raise VcfError(path, "missing #CHROM header line before the first record", line=lineno)
    if fileformat is None:
        raise VcfError(path, "empty file")
    raise VcfError(path, "missing #CHROM header line (file ends inside the header)")


def _parse_chrom_line(line: str, lineno: int, path: str) -> list[str]:
    cols = line.split("\t")
    if len(cols) < len(FIXED_COLUMNS):
        if " " in line:
            raise VcfError(
                path,
                "header line is not tab-separated (spaces between columns)",
                line=lineno,
                hint="VCF columns must be separated by single tab characters",
            )
        raise VcfError(path, f"#CHROM line has {len(cols)} columns, expected at least 8", line=lineno)
    if tuple(c.upper() if i else c for i, c in enumerate(cols[:8])) != FIXED_COLUMNS:
        raise VcfError(path, f"#CHROM line columns {cols[:8]} are not the VCF fixed columns", line=lineno)
    if len(cols) <= 9:
        raise VcfError(path, "no sample columns: pgx needs genotypes for at least one sample", line=lineno)
    if cols[8] != "FORMAT":
        raise VcfError(path, f"column 9 is {cols[8]!r}, expected FORMAT", line=lineno)
    samples = cols[9:]
    seen: set[str] = set()
    for s in samples:
        if not s:
            raise VcfError(path, "empty sample name in #CHROM line", line=lineno)
        if s in seen:
            raise VcfError(
                path,
                f"duplicate sample name {s!r} in #CHROM line",
                line=lineno,
                hint="sample names must be unique so results cannot be attached to the wrong person",
            )
        seen.add(s)
    return samples
