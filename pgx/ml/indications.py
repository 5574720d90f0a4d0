"""Indications the re-ranker can order: the drug knowledge's own ``indications`` lists.

A user types ``antiplatelet`` or ``statin``; the knowledge names them ``antiplatelet_pci`` and
``hyperlipidemia_statin``. A query matches an indication by its full name, a leading part
of it, or one of its underscore-separated words, so no alias table has to be kept in step
with the knowledge base. Anything that matches none, or several, is a usage error that
lists the choices.
"""

from __future__ import annotations

from pgx.errors import UsageError
from pgx.knowledge.loader import KnowledgeBase


def indication_drugs(kb: KnowledgeBase) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in kb.drugs.drugs if kb.drugs else []:
        for ind in d.indications:
            out.setdefault(ind, []).append(d.name)
    return {k: sorted(v) for k, v in sorted(out.items())}


def resolve_indication(kb: KnowledgeBase, query: str) -> str:
    known = indication_drugs(kb)
    q = query.strip().lower().replace("-", "_").replace(" ", "_")
    if q in known:
        return q
    hits = [name for name in known if name.startswith(q) or q in name.split("_")]
    if len(hits) == 1:
        return hits[0]
    choices = ", ".join(known)
    if not hits:
        raise UsageError(f"unknown indication {query!r}", hint=f"one of: {choices}")
    raise UsageError(f"indication {query!r} is ambiguous: {', '.join(hits)}", hint="give the full name")
