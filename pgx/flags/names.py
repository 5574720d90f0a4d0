"""Drug and medication names as the rule and knowledge bases know them."""

from __future__ import annotations

import difflib

from pgx.errors import UsageError
from pgx.knowledge.loader import KnowledgeBase
from pgx.rules.loader import RuleBase


def unknown_medications(kb: KnowledgeBase, rb: RuleBase, medications: list[str]) -> list[str]:
    """A misspelt inhibitor would silently leave a phenotype unconverted: name every medication
    pgx does not know, with the closest known name."""
    known = set(rb.drugs) | ({d.name for d in kb.drugs.drugs} if kb.drugs else set())
    if kb.interactions is not None:
        known |= {p.drug for p in kb.interactions.perpetrators}
    out = []
    for med in medications:
        if med in known:
            continue
        close = difflib.get_close_matches(med, sorted(known), n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        out.append(
            f"medication {med!r} is not in pgx's drug or interaction knowledge{hint}: "
            "no phenoconversion or interaction was considered for it"
        )
    return out


def check_drugs(rb: RuleBase, kb: KnowledgeBase, drugs: list[str] | None) -> list[str] | None:
    if drugs is None:
        return None
    known = set(rb.drugs) | ({d.name for d in kb.drugs.drugs} if kb.drugs else set())
    names = [d.strip().lower() for d in drugs if d.strip()]
    unknown = [d for d in names if d not in known]
    if unknown:
        raise UsageError(f"unknown drug {unknown[0]!r}", hint="`pgx rules list` shows the drugs with rules")
    return names
