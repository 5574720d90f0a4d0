"""Writing outputs so that a crash or kill never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from pgx.errors import UsageError

_SERIAL = itertools.count()


def _default_mode() -> int:
    """The mode a plain ``open()`` would give (mkstemp's 0600 would surprise a lab's shared folders)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_text(path: str | Path, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place.

    The rename alone makes the file whole or absent for any reader, a killed process included;
    ``fsync`` also makes it survive a power cut. A batch writing thousands of files skips the
    per-file fsync and syncs once before recording a chunk as complete.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{path}: output folder {parent} does not exist")
    tmp = parent / f".{path.name}.{os.getpid()}.{next(_SERIAL)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the mode open() gives, umask applied
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes_from(path: str | Path, producer: Callable[[str], object]) -> None:
    """Like :func:`atomic_write_text` for a producer that writes to a temporary path itself."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{path}: output folder {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    os.close(fd)
    try:
        producer(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256_file(path: str | Path) -> str:
    """The SHA-256 every output records of its inputs (read in 1 MiB pieces: VCFs can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
