"""Shared fixtures. Tests needing ../shared skip with a reason when it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from tests.service_support import BACKENDS, database_url

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def _find_shared() -> Path | None:
    candidates = [Path(os.environ["PGX_SHARED"])] if os.environ.get("PGX_SHARED") else []
    candidates.append(REPO.parent / "shared")
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


SHARED = _find_shared()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="public source data (../shared) not present; set PGX_SHARED to run these tests"
)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="session")
def shared() -> Path:
    if SHARED is None:
        pytest.skip("public source data (../shared) not present; set PGX_SHARED to run these tests")
    return SHARED


PGX_SCRIPT = Path(sys.executable).parent / "pgx"


def run_pgx(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command-line program, as a user would."""
    cmd = [str(PGX_SCRIPT)] if PGX_SCRIPT.exists() else [sys.executable, "-m", "pgx"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def simulate_vcf(
    path: Path, genes: dict[str, str], sample: str = "SIMULATED", *, phased: bool = False, only_listed: bool = False
) -> Path:
    """A VCF made by `pgx simulate` carrying these diplotypes (other genes reference/reference,
    or absent with ``only_listed``)."""
    args = ["simulate", "--sample", sample, "-o", str(path)]
    args += ["--phased"] if phased else []
    args += ["--only-listed"] if only_listed else []
    for gene, diplotype in genes.items():
        args += ["-g", gene, "-d", diplotype]
    proc = run_pgx(*args)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A fresh service database on each backend (SQLite always; PostgreSQL when CI provides a server)."""
    yield from database_url(request.param, tmp_path)
