"""benchmarks/RESULTS.md is shared by several scripts; each owns one level-2 section and rewrites only it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by the scripts in `benchmarks/` (see `benchmarks/README.md`); each script owns one section.\n"
)


def write_section(heading: str, section: str, path: Path = RESULTS) -> None:
    """Replace the section that starts with ``heading`` (or append it), keeping the others intact."""
    section = section.rstrip() + "\n"
    lines = (path.read_text() if path.exists() else RESULTS_HEADER).splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        path.write_text("".join(lines).rstrip() + "\n\n" + section)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + tail if tail else ""))


def machine() -> str:
    """CPU model, cores (and how many this process may use) and RAM, for a results header."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    model = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "unknown CPU")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = re.search(r"MemTotal:\s+(\d+)", meminfo)
    ram = f"{int(mem.group(1)) / 2**20:.1f} GiB RAM" if mem else "RAM unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {os.cpu_count()} cores ({usable} usable), {ram}"


def source_state(paths: list[str], what: str) -> str:
    """The commit measured, and whether ``paths`` (the code that decides the numbers) had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", *paths)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (f" with uncommitted changes to {what}" if dirty else "")


@dataclass
class Measured:
    wall: float
    cpu: float
    rss_mib: float


def run_measured(cmd: list[str], log: Path) -> tuple[Measured, int]:
    """Run ``cmd``: wall time, and (wait4) user+sys time and peak RSS of it and its waited-for children."""
    with open(log, "w") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), proc.returncode
