"""benchmarks/RESULTS.md is shared by several scripts; each owns one level-2 section and rewrites only it."""

from __future__ import annotations

from pathlib import Path

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
