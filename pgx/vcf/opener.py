"""Recognise what kind of file we were given and open it as text lines.

Plain text, gzip and BGZF VCF are read as text; BCF is detected here and read elsewhere.
Content is sniffed from the bytes, never trusted from the file name.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

from pgx.errors import VcfError


class FileKind(str, Enum):
    VCF = "vcf"
    VCF_GZIP = "vcf.gz (gzip)"
    VCF_BGZF = "vcf.gz (bgzip)"
    BCF = "bcf"


def sniff(path: str | Path) -> FileKind:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(18)
    except FileNotFoundError:
        raise VcfError(path, "file not found") from None
    except IsADirectoryError:
        raise VcfError(path, "is a directory, expected a VCF/BCF file") from None
    except OSError as exc:
        raise VcfError(path, f"cannot read file ({exc.strerror})") from None
    if not head:
        raise VcfError(path, "empty file", hint="expected a VCF or BCF with a header and at least one sample")
    if head[:2] == b"\x1f\x8b":
        is_bgzf = len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC"
        try:
            with gzip.open(path, "rb") as gz:
                inner = gz.read(5)
        except (OSError, EOFError, zlib.error):
            raise VcfError(path, "truncated or corrupt compressed file") from None
        if inner.startswith(b"BCF"):
            return FileKind.BCF
        return FileKind.VCF_BGZF if is_bgzf else FileKind.VCF_GZIP
    if head.startswith(b"BCF"):
        return FileKind.BCF
    if b"\x00" in head or not _looks_textual(head):
        raise VcfError(path, "not a VCF: binary content", hint="expected a VCF (text, gzip or bgzip) or BCF file")
    return FileKind.VCF


def _looks_textual(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def find_index(path: str | Path) -> str | None:
    for suffix in (".tbi", ".csi"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            return str(candidate)
    return None


def iter_lines(path: str | Path, kind: FileKind) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without line ending) for a text VCF.

    CRLF endings are accepted. Decoding and decompression failures become VcfError with
    the line number reached.
    """
    path = str(path)
    opener = gzip.open if kind in (FileKind.VCF_GZIP, FileKind.VCF_BGZF) else open
    lineno = 0
    try:
        with opener(path, "rb") as raw:
            for lineno, bline in enumerate(raw, start=1):  # noqa: B007 - lineno used in except
                try:
                    line = bline.decode("utf-8")
                except UnicodeDecodeError:
                    raise VcfError(path, "not valid UTF-8 text (binary content?)", line=lineno) from None
                yield lineno, line.rstrip("\r\n")
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        if isinstance(exc, VcfError):
            raise
        raise VcfError(path, "truncated or corrupt compressed file", line=lineno + 1 if lineno else None) from None
