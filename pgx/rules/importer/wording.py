"""pgx's own wording: a condition described, a rule id made from it, and a rule's short rationale.

No guideline prose is copied: the rationale says the result, why it matters for this drug
(from the drug's pathway role) and what the guideline recommends, in pgx's words.
"""

from __future__ import annotations

import re

from pgx.rules.schema import GeneCondition

_REDUCED = re.compile(r"poor|intermediate|decreased|deficient|reduced|susceptib|unfavorable", re.I)
_INCREASED = re.compile(r"rapid|increased", re.I)

ACTION_WORDS = {
    "contraindicated": "do not use",
    "avoid": "use an alternative",
    "reduce_dose": "start at a reduced dose",
    "increase_dose": "a higher dose may be needed",
    "monitor": "monitor drug levels or response",
    "standard_dosing": "standard dosing",
    "insufficient_evidence": "no recommendation can be made from this result",
}


def describe_condition(c: GeneCondition) -> str:
    if c.not_tested:
        return f"{c.gene} not tested"
    if c.allele_status is not None:
        return f"{c.gene}{c.allele_status.allele} {'positive' if c.allele_status.positive else 'negative'}"
    if c.activity_score is not None:
        lo, hi = c.activity_score.min, c.activity_score.max
        return f"{c.gene} activity score {lo:g}" if lo == hi else f"{c.gene} activity score {lo}–{hi}"
    if c.diplotypes is not None:
        return f"{c.gene} {' or '.join(c.diplotypes)}"
    return f"{c.gene} {' or '.join(c.phenotypes or [])}"


def _mechanism(drug: str, c: GeneCondition, role: str | None) -> str | None:
    if c.not_tested or role is None:
        return None
    if c.allele_status is not None:
        return "carriers have a high risk of severe hypersensitivity" if c.allele_status.positive else None
    text = " ".join(c.phenotypes or c.diplotypes or [])
    if c.activity_score is not None and c.activity_score.max is not None and c.activity_score.max < 2:
        text = "reduced"
    reduced, increased = bool(_REDUCED.search(text)), bool(_INCREASED.search(text))
    if role == "activation":
        return (
            f"less {drug} is converted to its active form"
            if reduced
            else f"more active metabolite of {drug} forms"
            if increased
            else None
        )
    if role in ("clearance_major", "clearance_minor"):
        return (
            f"{drug} is cleared more slowly, so exposure rises"
            if reduced
            else f"{drug} is cleared faster, so exposure falls"
            if increased
            else None
        )
    if role == "transport":
        return f"reduced transport raises {drug} exposure" if reduced else None
    if role == "target":
        return f"the pathway {drug} acts on is altered" if reduced or increased else None
    return None


def rationale(
    drug: str,
    source: str,
    conditions: list[GeneCondition],
    action: str,
    dose: float | None,
    roles: dict[tuple[str, str], str],
) -> str:
    """pgx's own short wording: the result, why it matters for this drug, what the guideline says."""
    who = " and ".join(describe_condition(c) for c in conditions)
    why = list(dict.fromkeys(m for c in conditions if (m := _mechanism(drug, c, roles.get((drug, c.gene))))))
    what = ACTION_WORDS[action]
    if dose is not None and action == "reduce_dose":
        what += f" (about {dose:.0%} of standard)"
    return f"{who}: {'; '.join(why) + '. ' if why else ''}{source}: {what}."


def slug(c: GeneCondition) -> str:
    """The condition as a rule-id part ("cyp2d6-poor-metabolizer")."""
    return re.sub(r"[^a-z0-9*:.]+", "-", describe_condition(c).lower()).strip("-")
