"""pgx as a library: call, assess, rank and render. The CLI, batch and the service call these.

    calls = pgx.api.call("patient.vcf")                      # VCF -> CallReport (pgx call)
    report = pgx.api.assessment(calls, medications=["paroxetine"])  # -> DrugReport (pgx report)
    html = pgx.api.rendering(report, "html")

Each stage's output is a versioned document, so a stage can be resumed from the previous one's
file: :func:`read_calls` reads what ``pgx call`` (or a batch's ``samples/*.json``) wrote, and
``assess`` gives the same report from it as from the VCF. Nothing here prints or exits; errors
are :class:`pgx.errors.PgxError` naming the argument at fault.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgx.api.assessment import assess, assess_calls, assess_vcf, rank
    from pgx.api.calls import call, read_calls
    from pgx.api.rendering import render

# Loaded on first use: `pgx call` should not pay for the rule engine, the graph and Jinja.
_HOME = {
    "call": "pgx.api.calls",
    "read_calls": "pgx.api.calls",
    "assess": "pgx.api.assessment",
    "assess_vcf": "pgx.api.assessment",
    "assess_calls": "pgx.api.assessment",
    "rank": "pgx.api.assessment",
    "render": "pgx.api.rendering",
}
__all__ = ["assess", "assess_calls", "assess_vcf", "call", "rank", "read_calls", "render"]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'pgx.api' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
