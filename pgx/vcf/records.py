"""Parsing of the records pgx needs, into per-sample numpy arrays.

Only records overlapping a PGx target are parsed in full; every line still gets a cheap
structural check (column count, integer POS) so a truncated file is never read as valid.
Genotype strings repeat heavily across samples, so each distinct string is parsed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgx.errors import VcfError
from pgx.vcf.targets import canonical_chrom

MISSING = -1  # '.' allele
ABSENT = -2  # no second allele (haploid genotype)
NO_PS = np.iinfo(np.int64).min

SYMBOLIC_REF_BLOCK = {"<NON_REF>", "<*>", "<X>"}
SV_ALTS = ("<DEL", "<DUP", "<CNV", "<INS", "<INV")


@dataclass
class Record:
    line: int | None
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    filters: tuple[str, ...]
    end: int
    svtype: str | None
    is_block: bool
    gt: np.ndarray  # (n, 2) int16 allele indices
    phased: np.ndarray  # (n,) bool
    ps: np.ndarray  # (n,) int64, NO_PS when absent
    ad_single: np.ndarray | None  # (n,) bool: het GT but AD shows one allele only
    cn: np.ndarray | None  # (n,) int16 copy number, -1 missing
    poly: np.ndarray  # (n,) bool: more than two alleles in GT

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else f"{self.chrom}:{self.pos}"

    @property
    def is_sv(self) -> bool:
        return self.svtype is not None or any(a.startswith(SV_ALTS) for a in self.alts)


class GenotypeParser:
    """Parses GT strings with a cache; raises ValueError with a short reason on garbage."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, int, bool, bool]] = {}

    def __call__(self, text: str) -> tuple[int, int, bool, bool]:
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        parsed = self._parse(text)
        if len(self._cache) < 100_000:
            self._cache[text] = parsed
        return parsed

    @staticmethod
    def _parse(text: str) -> tuple[int, int, bool, bool]:
        if text in (".", ""):
            return (MISSING, MISSING, False, False)
        phased = "|" in text
        body = text[1:] if text[0] in "|/" else text  # VCF 4.4 leading phasing marker
        tokens = body.replace("|", "/").split("/")
        vals = []
        for t in tokens:
            if t == ".":
                vals.append(MISSING)
            elif t.isdigit():
                vals.append(int(t))
            else:
                raise ValueError(f"unparseable GT {text!r}")
        if len(vals) == 1:
            return (vals[0], ABSENT, phased, False)
        return (vals[0], vals[1], phased, len(vals) > 2)


def extent(pos: int, ref: str, alts: tuple[str, ...], end_info: int | None, svtype: str | None) -> tuple[bool, int]:
    """(is reference block, last base covered) of a record.

    gVCF reference blocks are records whose ALTs are all symbolic "any other allele" markers
    (``<NON_REF>``, ``<*>``) or, in some callers' output, no ALT at all (``.``), with INFO/END.
    Blocks and symbolic SV records span to END; everything else spans its REF.
    """
    is_block = (bool(alts) and all(a in SYMBOLIC_REF_BLOCK for a in alts)) or (not alts and end_info is not None)
    end = pos + len(ref) - 1
    if end_info is not None and (is_block or svtype is not None or any(a.startswith("<") for a in alts)):
        end = max(end, end_info)
    return is_block, end


def _int_or(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def parse_info(info: str) -> tuple[int | None, str | None]:
    """(END, SVTYPE) from an INFO column, without parsing the rest."""
    end = svtype = None
    if "END=" in info or "SVTYPE=" in info:
        for item in info.split(";"):
            if item.startswith("END="):
                try:
                    end = int(item[4:])
                except ValueError:
                    end = None
            elif item.startswith("SVTYPE="):
                svtype = item[7:]
    return end, svtype


def parse_samples(
    fmt: str,
    columns: list[str],
    n_alts: int,
    gtp: GenotypeParser,
    where: tuple[str, int | None, str],
    sample_names: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Genotype arrays for the given sample columns. ``where`` is (path, line, chrom:pos)."""
    path, line, locus = where
    keys = fmt.split(":")
    n = len(columns)
    gt = np.empty((n, 2), dtype=np.int16)
    phased = np.zeros(n, dtype=bool)
    poly = np.zeros(n, dtype=bool)
    ps = np.full(n, NO_PS, dtype=np.int64)
    ad_single = None
    cn = None
    if "GT" not in keys:
        gt.fill(MISSING)
        return gt, phased, ps, None, None, poly
    gi = keys.index("GT")
    psi = keys.index("PS") if "PS" in keys else None
    adi = keys.index("AD") if "AD" in keys else None
    cni = keys.index("CN") if "CN" in keys else None
    if adi is not None:
        ad_single = np.zeros(n, dtype=bool)
    if cni is not None:
        cn = np.full(n, -1, dtype=np.int16)
    simple = len(keys) == 1
    for i, col in enumerate(columns):
        fields = (col,) if simple else col.split(":")
        text = fields[gi] if gi < len(fields) else "."
        try:
            a1, a2, ph, many = gtp(text)
        except ValueError as exc:
            raise VcfError(path, f"{locus}: {exc}", line=line, sample=sample_names[i]) from None
        if a1 > n_alts or a2 > n_alts:
            raise VcfError(
                path,
                f"{locus}: GT {text!r} uses allele index {max(a1, a2)} but the record has "
                f"{n_alts} ALT allele{'s' if n_alts != 1 else ''}",
                line=line,
                sample=sample_names[i],
            )
        gt[i, 0] = a1
        gt[i, 1] = a2
        phased[i] = ph
        poly[i] = many
        if simple:
            continue
        if psi is not None and psi < len(fields) and fields[psi] not in (".", ""):
            ps[i] = _int_or(fields[psi], NO_PS)
        if ad_single is not None and adi is not None and adi < len(fields) and a1 >= 0 and a2 >= 0 and a1 != a2:
            ad = fields[adi].split(",")
            if max(a1, a2) < len(ad):
                d1, d2 = _int_or(ad[a1], -1), _int_or(ad[a2], -1)
                ad_single[i] = (d1 == 0) != (d2 == 0) and d1 >= 0 and d2 >= 0
        if cn is not None and cni is not None and cni < len(fields):
            cn[i] = _int_or(fields[cni], -1)
    return gt, phased, ps, ad_single, cn, poly


_DIGIT_OR_DOT = np.zeros(256, dtype=bool)
_DIGIT_OR_DOT[[ord(c) for c in "0123456789."]] = True


def fixed_width_gt(rest: str, n_alts: int, sample_idx: list[int] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(gt, phased) straight from the bytes when every sample column is a 3-character ``a|b`` or ``a/b``.

    Cohort files (1000 Genomes, biobank releases) are GT-only, diploid and single-digit, so a
    line of N samples is exactly ``4N - 1`` bytes and numpy can read it without a Python loop
    per sample. Anything else (haploid, multi-digit, garbage, an allele index the record does
    not have) returns None and goes through :func:`parse_samples`, which also words the errors.
    """
    if (len(rest) + 1) % 4 or not rest.isascii():
        return None
    b = np.frombuffer(rest.encode("ascii"), dtype=np.uint8)
    a1, sep, a2 = b[0::4], b[1::4], b[2::4]
    if not ((b[3::4] == 9).all() and _DIGIT_OR_DOT[a1].all() and _DIGIT_OR_DOT[a2].all()):
        return None
    phased = sep == ord("|")
    if not (phased | (sep == ord("/"))).all():
        return None
    gt = np.stack([a1, a2], axis=1).astype(np.int16) - ord("0")
    gt[gt == ord(".") - ord("0")] = MISSING
    if gt.max(initial=0) > n_alts:
        return None
    if sample_idx is not None:
        return gt[sample_idx], phased[sample_idx]
    return gt, phased


def split_fixed(line: str, lineno: int | None, path: str, n_columns: int) -> tuple[list[str], int]:
    """Structural check of one data line: (the 8 fixed columns and FORMAT, where the sample columns start)."""
    tabs = line.count("\t")
    if tabs != n_columns - 1:
        if tabs == 0 and " " in line:
            raise VcfError(path, "record is not tab-separated (spaces between columns)", line=lineno)
        if tabs < 9 and n_columns > 9 and tabs >= 7:
            raise VcfError(
                path, f"missing FORMAT/sample columns: {tabs + 1} columns, expected {n_columns}", line=lineno
            )
        raise VcfError(
            path,
            f"too {'few' if tabs < n_columns - 1 else 'many'} columns: {tabs + 1}, expected {n_columns}",
            line=lineno,
        )
    # the fixed columns without copying the sample columns (most lines are not needed, and a
    # biobank line is megabytes)
    cut = len(line)
    if tabs >= 9:
        cut = -1
        for _ in range(9):
            cut = line.find("\t", cut + 1)
    cols = line[:cut].split("\t")
    if not cols[1].isdigit():
        raise VcfError(path, f"POS {cols[1]!r} is not an integer", line=lineno)
    return cols, cut + 1


def make_record(
    cols: list[str],  # the fixed columns, FORMAT, and the sample columns as one string
    lineno: int | None,
    path: str,
    sample_idx: list[int] | None,
    sample_names: list[str],
    gtp: GenotypeParser,
) -> Record:
    chrom, pos_s, _id, ref, alt, _qual, filt, info, fmt, rest = cols
    pos = int(pos_s)
    alts = tuple(alt.split(",")) if alt not in (".", "") else ()
    filters = () if filt in ("PASS", ".", "") else tuple(filt.split(";"))
    end_info, svtype = parse_info(info)
    fast = fixed_width_gt(rest, len(alts), sample_idx) if fmt == "GT" else None
    if fast is not None:
        gt, phased = fast
        n = gt.shape[0]
        # no PS, no ploidy above two: read-only views of one value, not megabytes per biobank record
        ps, poly = np.broadcast_to(np.int64(NO_PS), (n,)), np.broadcast_to(np.False_, (n,))
        ad_single = cn = None
    else:
        columns = rest.split("\t")
        if sample_idx is not None:
            columns = [columns[i] for i in sample_idx]
        locus = f"{chrom}:{pos}"
        gt, phased, ps, ad_single, cn, poly = parse_samples(
            fmt, columns, len(alts), gtp, (path, lineno, locus), sample_names
        )
    is_block, end = extent(pos, ref, alts, end_info, svtype)
    return Record(
        line=lineno,
        chrom=canonical_chrom(chrom),
        pos=pos,
        ref=ref.upper(),
        alts=tuple(a.upper() if not a.startswith("<") else a for a in alts),
        filters=filters,
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
