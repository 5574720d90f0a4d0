"""Read the PGx-relevant records of a VCF/BCF for selected samples.

Text VCFs (plain, gzip, bgzip) are streamed line by line with line numbers for errors;
an indexed bgzip file (``.tbi``/``.csi``) is read only over the PGx regions; BCF goes
through cyvcf2. All three produce the same :class:`VcfData`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx.errors import UsageError, VcfError
from pgx.vcf.assembly import BuildEvidence, build_from_header, refuse_if_not_grch38
from pgx.vcf.header import Header, parse_header
from pgx.vcf.opener import FileKind, find_index, iter_lines, sniff
from pgx.vcf.records import (
    NO_PS,
    GenotypeParser,
    Record,
    extent,
    make_record,
    parse_info,
    split_fixed,
)
from pgx.vcf.targets import Targets, canonical_chrom


@dataclass
class VcfData:
    path: str
    kind: FileKind
    header: Header
    samples: list[str]
    records: dict[str, list[Record]]  # per canonical chromosome, in file order
    evidence: BuildEvidence
    indexed: bool
    ref_mismatch: dict[tuple[str, int], str] = field(default_factory=dict)  # (chrom, pos) -> message
    has_record_at: Callable[[str, int], tuple[bool, bool]] | None = None  # (before, after) a position
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    def subset(self, rows: np.ndarray) -> VcfData:
        """The same records for the samples at ``rows`` only (a chunk of a cohort read once)."""

        def cut(rec: Record) -> Record:
            return dataclasses.replace(
                rec,
                gt=rec.gt[rows],
                phased=rec.phased[rows],
                ps=rec.ps[rows],
                poly=rec.poly[rows],
                ad_single=None if rec.ad_single is None else rec.ad_single[rows],
                cn=None if rec.cn is None else rec.cn[rows],
            )

        return dataclasses.replace(
            self,
            samples=[self.samples[i] for i in rows],
            records={c: [cut(r) for r in recs] for c, recs in self.records.items()},
        )

    def within_span(self, chrom: str, pos: int) -> bool:
        """Is ``pos`` inside the range of records this file holds for ``chrom``?"""
        if self.has_record_at is not None:
            before, after = self.has_record_at(chrom, pos)
            return before and after
        span = self.spans.get(chrom)
        return span is not None and span[0] <= pos <= span[1]


@contextlib.contextmanager
def quiet_htslib() -> Iterator[None]:
    """Silence htslib's own stderr chatter; its failures reach the user as our one-line errors."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _select(header: Header, path: str, wanted: list[str] | None) -> list[int] | None:
    if not wanted:
        return None
    index = {s: i for i, s in enumerate(header.samples)}
    unknown = [s for s in wanted if s not in index]
    if unknown:
        shown = ", ".join(header.samples[:5]) + (" ..." if len(header.samples) > 5 else "")
        raise UsageError(f"{path}: sample {unknown[0]!r} not in file (samples: {shown})")
    return [index[s] for s in dict.fromkeys(wanted)]


class _Collector:
    """Shared logic: decide relevance, parse, check REF against GRCh38."""

    def __init__(self, path: str, header: Header, targets: Targets, sample_idx: list[int] | None) -> None:
        self.path = path
        self.header = header
        self.targets = targets
        self.sample_idx = sample_idx
        self.names = header.samples if sample_idx is None else [header.samples[i] for i in sample_idx]
        self.gtp = GenotypeParser()
        self.records: dict[str, list[Record]] = {}
        self.evidence = build_from_header(header)
        self.ref_mismatch: dict[tuple[str, int], str] = {}
        self.spans: dict[str, list[int]] = {}
        self.n_columns = header.n_columns

    def relevant(self, chrom: str, pos: int, ref: str, alt: str, info: str) -> bool:
        end = pos + len(ref) - 1
        if alt.startswith("<") or ("<" in alt) or (alt == "." and "END=" in info):
            e, _ = parse_info(info)
            if e is not None:
                end = max(end, e)
        ct = self.targets.by_chrom.get(chrom)
        if ct is not None and ct.overlapping(pos, end):
            return True
        if "<" in alt or "SVTYPE=" in info:
            for gchrom, s, e in self.targets.gene_regions.values():
                if gchrom == chrom and pos <= e and end >= s:
                    return True
        return False

    def line(self, line: str, lineno: int | None) -> None:
        cols, samples_at = split_fixed(line, lineno, self.path, self.n_columns)
        chrom = canonical_chrom(cols[0])
        pos = int(cols[1])
        span = self.spans.get(chrom)
        if span is None:
            self.spans[chrom] = [pos, pos]
        else:
            if pos < span[0]:
                span[0] = pos
            if pos > span[1]:
                span[1] = pos
        self.note_grch37(chrom, pos, cols[3])
        if chrom not in self.targets.by_chrom and not any(c == chrom for c, _, _ in self.targets.gene_regions.values()):
            return
        if not self.relevant(chrom, pos, cols[3], cols[4], cols[7]):
            return
        if len(cols) == 9:
            cols.append(line[samples_at:])
        rec = make_record(cols, lineno, self.path, self.sample_idx, self.names, self.gtp)
        self.add(rec)

    def note_grch37(self, chrom: str, pos: int, ref: str) -> None:
        ref37 = self.targets.grch37.get((chrom, pos))
        if ref37 is not None and ref.upper().startswith(ref37):
            self.evidence.grch37_hits += 1

    def add(self, rec: Record) -> None:
        self._check_ref(rec)
        self.records.setdefault(rec.chrom, []).append(rec)

    def _check_ref(self, rec: Record) -> None:
        if rec.is_sv or "N" in rec.ref:
            return
        known = self.targets.bases.get(rec.chrom, {})
        checked = False
        ref = rec.ref if not rec.is_block else rec.ref[:1]
        for i, base in enumerate(ref):
            k = known.get(rec.pos + i)
            if k is None:
                continue
            checked = True
            if k == base and i == 0:
                self.evidence.grch38_hits += 1
            if k != base:
                self.evidence.ref_mismatched += 1
                msg = f"REF {rec.ref} does not match GRCh38 {k} at {rec.chrom}:{rec.pos + i} ({rec.where})"
                self.ref_mismatch[(rec.chrom, rec.pos)] = msg
                if len(self.evidence.mismatch_examples) < 5:
                    self.evidence.mismatch_examples.append(f"{rec.chrom}:{rec.pos + i} {rec.ref}≠{k}")
                break
        if checked:
            self.evidence.ref_checked += 1

    def finish(self, kind: FileKind, indexed: bool) -> VcfData:
        refuse_if_not_grch38(self.path, self.evidence)
        return VcfData(
            path=self.path,
            kind=kind,
            header=self.header,
            samples=self.names,
            records=self.records,
            evidence=self.evidence,
            indexed=indexed,
            ref_mismatch=self.ref_mismatch,
            spans={c: (s[0], s[1]) for c, s in self.spans.items()},
        )


def read_header(path: str | Path) -> tuple[Header, FileKind, bool]:
    """(header, kind, indexed) without reading records: enough to plan a batch over many files."""
    path = str(path)
    kind = sniff(path)
    if kind is FileKind.BCF:
        import cyvcf2

        with quiet_htslib():
            try:
                raw = cyvcf2.VCF(path, lazy=True, threads=1).raw_header.rstrip("\n").split("\n")
            except Exception as exc:  # cyvcf2 raises bare Exception/OSError for unreadable files
                raise VcfError(path, f"cannot open BCF: {exc}") from None
        header = parse_header(((i + 1, h) for i, h in enumerate(raw)), path)
        indexed = find_index(path) is not None
    else:
        header = parse_header(iter_lines(path, kind), path)
        indexed = kind is FileKind.VCF_BGZF and find_index(path) is not None
    refuse_if_not_grch38(path, build_from_header(header))
    return header, kind, indexed


def read_vcf(path: str | Path, targets: Targets, samples: list[str] | None = None) -> VcfData:
    path = str(path)
    kind = sniff(path)
    if kind is FileKind.BCF:
        with quiet_htslib():
            return _read_bcf(path, targets, samples)
    index = find_index(path) if kind is FileKind.VCF_BGZF else None
    if index is not None:
        with quiet_htslib():
            return _read_tabix(path, index, targets, samples)
    lines = iter_lines(path, kind)
    header = parse_header(lines, path)
    refuse_if_not_grch38(path, build_from_header(header))
    col = _Collector(path, header, targets, _select(header, path, samples))
    for lineno, line in lines:
        if not line:
            continue
        if line.startswith("#"):
            raise VcfError(path, "header line after the first record", line=lineno)
        col.line(line, lineno)
    return col.finish(kind, indexed=False)


def _read_tabix(path: str, index: str, targets: Targets, samples: list[str] | None) -> VcfData:
    import pysam

    try:
        tbx = pysam.TabixFile(path, index=index)
    except (OSError, ValueError) as exc:
        raise VcfError(path, f"cannot open with index {index}: {exc}") from None
    header_lines = list(tbx.header)
    header = parse_header(((i + 1, h.rstrip("\r\n")) for i, h in enumerate(header_lines)), path)
    refuse_if_not_grch38(path, build_from_header(header))
    col = _Collector(path, header, targets, _select(header, path, samples))
    file_names = {canonical_chrom(c): c for c in tbx.contigs}
    seen: set[str] = set()
    try:
        for chrom, spans in targets.regions().items():
            name = file_names.get(chrom)
            if name is None:
                continue
            for start, end in spans:
                for line in tbx.fetch(name, max(0, start - 1), end):
                    key = line[:200]
                    if key in seen:
                        continue
                    seen.add(key)
                    col.line(line.rstrip("\r\n") if line.endswith(("\r", "\n")) else line, None)
    except (OSError, ValueError) as exc:
        raise VcfError(path, f"error reading indexed file: {exc}") from None

    # Each index probe decompresses a block (~2 ms): a gene's positions on a chromosome the file
    # only partly holds would cost hundreds. "Some record starts at or before pos" is a question
    # about the first record, and "some record reaches pos" holds for every position below one
    # where it holds, so probes are cached per chromosome and answered from what was read.
    first_start: dict[str, int | None] = {}
    reach_yes = {chrom: span[1] for chrom, span in col.spans.items()}  # some record reaches every pos <= this
    reach_no: dict[str, int] = {}  # no record reaches any pos >= this

    def has_record_at(chrom: str, pos: int) -> tuple[bool, bool]:
        name = file_names.get(chrom)
        if name is None:
            return (False, False)
        if chrom not in first_start:
            first = next(iter(tbx.fetch(name)), None)
            first_start[chrom] = int(first.split("\t", 2)[1]) if first is not None else None
        start = first_start[chrom]
        before = start is not None and start <= pos
        if pos <= reach_yes.get(chrom, 0):
            after = True
        elif pos >= reach_no.get(chrom, 1 << 62):
            after = False
        else:
            after = next(iter(tbx.fetch(name, pos - 1)), None) is not None
            if after:
                reach_yes[chrom] = pos
            else:
                reach_no[chrom] = pos
        return (before, after)

    data = col.finish(FileKind.VCF_BGZF, indexed=True)
    data.has_record_at = has_record_at
    return data


def _read_bcf(path: str, targets: Targets, samples: list[str] | None) -> VcfData:
    import cyvcf2

    try:
        vcf = cyvcf2.VCF(path, lazy=True, threads=1)
    except Exception as exc:  # cyvcf2 raises bare Exception/OSError for unreadable files
        raise VcfError(path, f"cannot open BCF: {exc}") from None
    raw = vcf.raw_header.rstrip("\n").split("\n")
    header = parse_header(((i + 1, h) for i, h in enumerate(raw)), path)
    refuse_if_not_grch38(path, build_from_header(header))
    sample_idx = _select(header, path, samples)
    col = _Collector(path, header, targets, sample_idx)
    idx = find_index(path)
    try:
        if idx is not None:
            file_names = {canonical_chrom(c): c for c in vcf.seqnames}
            variants: Iterable[object] = (
                v
                for chrom, spans in targets.regions().items()
                if chrom in file_names
                for s, e in spans
                for v in vcf(f"{file_names[chrom]}:{max(1, s)}-{e}")
            )
        else:
            variants = vcf
        seen: set[tuple[str, int, str, str]] = set()
        for v in variants:
            chrom = canonical_chrom(v.CHROM)  # type: ignore[attr-defined]
            alts = v.ALT  # type: ignore[attr-defined]
            alt = ",".join(alts) if alts else "."
            key = (chrom, v.POS, v.REF, alt)  # type: ignore[attr-defined]
            if key in seen:
                continue
            seen.add(key)
            span = col.spans.setdefault(chrom, [v.POS, v.POS])  # type: ignore[attr-defined]
            span[0], span[1] = min(span[0], v.POS), max(span[1], v.POS)  # type: ignore[attr-defined]
            col.note_grch37(chrom, v.POS, v.REF)  # type: ignore[attr-defined]
            info_end = v.INFO.get("END")  # type: ignore[attr-defined]
            svtype = v.INFO.get("SVTYPE")  # type: ignore[attr-defined]
            info = (f"END={info_end};" if info_end is not None else "") + (f"SVTYPE={svtype}" if svtype else "")
            if not col.relevant(chrom, v.POS, v.REF, alt, info):  # type: ignore[attr-defined]
                continue
            col.add(_bcf_record(v, chrom, alt, info, sample_idx))
    except VcfError:
        raise
    except Exception as exc:
        raise VcfError(path, f"error reading BCF: {exc}") from None
    return col.finish(FileKind.BCF, indexed=idx is not None)


def _bcf_record(v, chrom: str, alt: str, info: str, sample_idx: list[int] | None) -> Record:
    arr = v.genotype.array()  # (n, ploidy + 1); last column is the phased flag; -1 missing, -2 absent
    if sample_idx is not None:
        arr = arr[sample_idx]
    n = arr.shape[0]
    gt = np.full((n, 2), -2, dtype=np.int16)
    ploidy = arr.shape[1] - 1
    gt[:, : min(2, ploidy)] = arr[:, : min(2, ploidy)]
    phased = arr[:, -1].astype(bool)
    poly = (arr[:, 2:-1] >= -1).any(axis=1) if ploidy > 2 else np.zeros(n, dtype=bool)

    def fmt(key: str) -> np.ndarray | None:
        try:
            x = v.format(key)
        except KeyError:
            return None
        if x is None:
            return None
        return x[sample_idx] if sample_idx is not None else x

    ps_raw = fmt("PS")
    ps = np.full(n, NO_PS, dtype=np.int64)
    if ps_raw is not None:
        vals = ps_raw[:, 0].astype(np.int64)
        ok = vals > np.iinfo(np.int32).min + 1
        ps[ok] = vals[ok]
    cn_raw = fmt("CN")
    cn = None
    if cn_raw is not None:
        cn = cn_raw[:, 0].astype(np.int16)
        cn[cn_raw[:, 0] < 0] = -1
    ad_raw = fmt("AD")
    ad_single = None
    if ad_raw is not None:
        ad_single = np.zeros(n, dtype=bool)
        for i in range(n):
            a1, a2 = int(gt[i, 0]), int(gt[i, 1])
            if a1 >= 0 and a2 >= 0 and a1 != a2 and max(a1, a2) < ad_raw.shape[1]:
                d1, d2 = int(ad_raw[i, a1]), int(ad_raw[i, a2])
                ad_single[i] = d1 >= 0 and d2 >= 0 and (d1 == 0) != (d2 == 0)
    alts = tuple(a if a.startswith("<") else a.upper() for a in (v.ALT or []))
    end_info, svtype = parse_info(info)
    is_block, end = extent(v.POS, v.REF, alts, end_info, svtype)
    filt = v.FILTER
    return Record(
        line=None,
        chrom=chrom,
        pos=v.POS,
        ref=v.REF.upper(),
        alts=alts,
        filters=() if filt in (None, "PASS", ".") else tuple(filt.split(";")),
        end=end,
        svtype=svtype,
        is_block=is_block,
        gt=gt,
        phased=phased,
        ps=ps,
        ad_single=ad_single,
        cn=cn,
        poly=poly,
    )
