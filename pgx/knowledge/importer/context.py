"""Reference context around definition indels, reconstructed from the definitions themselves.

An indel in a repeat can be written anywhere along the repeat. The definition gives its
left-aligned VCF form and its HGVS name, which follows the 3' rule (``g.X_Ydup``,
``g.X_Ydel``) or names the repeat (``g.233760235TA[7]``). Between the left-aligned anchor
and the 3'-most placement the reference is periodic in the inserted/deleted unit, so those
bases can be written down without a genome FASTA.
"""

from __future__ import annotations

import re

from pgx.variants import normalize

_RANGE = re.compile(r"^g\.(\d+)(?:_(\d+))?(del|dup)[ACGTN]*$")
_INS = re.compile(r"^g\.(\d+)_(\d+)ins([ACGTN]+)$")
_REPEAT = re.compile(r"^g\.(\d+)([ACGTN]+)\[(\d+)\]$")


def _unit(pos: int, ref: str, alt: str) -> tuple[int, str, str] | None:
    """(anchor, kind, unit) for a pure indel in its trimmed form, else None."""
    a, r, t = normalize(pos, ref, alt)
    if len(r) == 1 and len(t) > 1 and t[0] == r[0]:
        return (a, "ins", t[1:])
    if len(t) == 1 and len(r) > 1 and r[0] == t[0]:
        return (a, "del", r[1:])
    return None


def _hgvs_entries(hgvs: str | None) -> list[str]:
    return [h.strip() for h in (hgvs or "").split(";") if h.strip()]


def _repeat_ref_count(entries: list[str], ref: str, alts: list[str]) -> dict[str, int]:
    """Reference copy number of each repeat named in the HGVS list, keyed ``start:unit``.

    The list names the copy number of each allele; the reference count is the one that
    explains the most alleles given each ALT's length difference from REF.
    """
    counts: dict[tuple[int, str], list[int]] = {}
    for e in entries:
        m = _REPEAT.match(e)
        if m:
            counts.setdefault((int(m.group(1)), m.group(2)), []).append(int(m.group(3)))
    out: dict[str, int] = {}
    for (start, unit), ns in counts.items():
        deltas = [(len(a) - len(ref)) // len(unit) for a in alts if (len(a) - len(ref)) % len(unit) == 0]
        candidates = {n - d for n in ns for d in (0, *deltas)}
        best = max(
            (c for c in candidates if c >= 1),
            key=lambda c: (sum((c + d) in ns for d in deltas), -c),
            default=None,
        )
        if best is not None:
            out[f"{start}:{unit}"] = best
    return out


def reference_context(position: int, ref: str, alts: list[str], hgvs: str | None) -> tuple[int, str] | None:
    """Return (start, bases) of reference known from ``position`` on, when it extends past REF.

    Returns None for SNVs and for indels whose HGVS gives no shift information.
    """
    if all(len(a) == len(ref) for a in alts):
        return None
    known: dict[int, str] = {position + i: b for i, b in enumerate(ref.upper())}
    entries = _hgvs_entries(hgvs)
    repeat_refs = _repeat_ref_count(entries, ref, alts)
    for alt in alts:
        unit_info = _unit(position, ref, alt)
        if unit_info is None:
            continue
        anchor, kind, unit = unit_info
        k = len(unit)
        end: int | None = None
        for e in entries:
            m = _RANGE.match(e)
            if m:
                x, y = int(m.group(1)), int(m.group(2) or m.group(1))
                if y - x + 1 == k and (m.group(3) == "del") == (kind == "del"):
                    end = max(end or 0, y)
                continue
            m = _INS.match(e)
            if m and kind == "ins" and len(m.group(3)) == k:
                end = max(end or 0, int(m.group(1)))
                continue
            m = _REPEAT.match(e)
            if m:
                key = f"{m.group(1)}:{m.group(2)}"
                if key in repeat_refs and k % len(m.group(2)) == 0:
                    end = max(end or 0, int(m.group(1)) + len(m.group(2)) * repeat_refs[key] - 1)
        if end is None:
            continue
        for i in range(end - anchor):
            p = anchor + 1 + i
            base = unit[i % k]
            if known.setdefault(p, base) != base:
                return None  # sources disagree; better no context than a wrong one
    seq = []
    p = position
    while p in known:
        seq.append(known[p])
        p += 1
    if len(seq) <= len(ref):
        return None
    return (position, "".join(seq))
