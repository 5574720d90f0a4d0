"""A recommendation's text -> an action from pgx's fixed vocabulary, a dose factor, alternatives, a strength."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pgx.rules.curation import StrengthEntry

_DOSE_WORDS = r"(?:starting |initial |maintenance |daily |standard |recommended )*"
_ACTIONS: list[tuple[str, re.Pattern[str]]] = [
    (
        "contraindicated",
        re.compile(
            r"contra-?indicat|do not (use|prescribe|administer)|should not be (used|prescribed|given)"
            r"|must not be",
            re.I,
        ),
    ),
    (
        "avoid",
        re.compile(  # "not recommended" is CPIC's wording for ineffective as well as unsafe
            r"(is|are) not recommended|\bavoid\b|\balternative\b|not be used|discontinue|refrain from|"
            r"select a (different|non)",
            re.I,
        ),
    ),
    (
        "reduce_dose",
        re.compile(
            rf"reduc\w* (the )?{_DOSE_WORDS}dose|dose reduction|reduce by|\d+\s*%\s*(reduction|less|lower)|"
            r"\d+\s*%\s*(?:-|to)?\s*\d*\s*%? of (the )?(lowest )?"
            r"(standard|normal|usual|typical|recommended|initial|starting|original)|"
            rf"decreas\w* (the )?{_DOSE_WORDS}dose|lower (starting |initial )?dose|drastically reduced|"
            r"reduced (starting |initial )?doses?|start with \d+\s*%|prescribe\s*(≤|<=)\s*\d+\s*mg|"
            r"do not (exceed|give doses exceeding)|maximum (daily )?dose of",
            re.I,
        ),
    ),
    (
        "increase_dose",
        re.compile(
            rf"increase (the )?{_DOSE_WORDS}dose|higher (starting |target |initial )?dose|\d+(\.\d+)?\s*(times|x) the|"
            r"\d+(\.\d+)?\s*x higher|\d+-fold higher|double the dose|titrat\w* to a higher",
            re.I,
        ),
    ),
    (
        "standard_dosing",
        re.compile(
            r"standard (starting |daily |starting daily )?dos|label[- ]recommended|normal (starting )?dose|"
            r"recommended (starting|standard) dose|"
            r"no (action|adjustment|dose adjustment|change|indication to change)|typical (initial|dosing|dose)|"
            r"desired starting dose|usual dose|per standard|"
            r"(use|initiate) [\w/ -]*(per|at|with) (the )?(standard|recommended)|"
            r"according to the (product )?label|standard of care dosing|no reason to|"
            r"without an increase in the (incidence of )?side effects|negligible effect|"
            r"no (significant )?effect on",
            re.I,
        ),
    ),
    ("monitor", re.compile(r"\bmonitor|therapeutic drug monitoring|\bTDM\b|be alert to", re.I)),
    (
        "insufficient_evidence",
        re.compile(
            r"insufficient|no (data|evidence)|no recommendation|cannot be (made|given)|could not be assigned", re.I
        ),
    ),
]
# Conditional mentions of a contraindication are about something else ("if no contraindication").
_CONDITIONAL = re.compile(
    r"if no contra-?indications?|unless contra-?indicated|absence of contra-?indications?|"
    r"if [^.;]*? (is|are) contra-?indicated",
    re.I,
)


def classify_action(text: str) -> str:
    """The action the recommendation leads with.

    Guideline texts state their main recommendation first and qualify it afterwards
    ("Avoid ... if possible. Use prasugrel ... if no contraindication"), so the earliest
    action phrase wins; ties go to the more severe action.
    """
    body = _CONDITIONAL.sub(" ", text.strip())
    if body.lower().rstrip(".") in ("", "none", "n/a", "no recommendation"):
        return "insufficient_evidence"
    hits = []
    for rank, (action, pattern) in enumerate(_ACTIONS):
        m = pattern.search(body)
        if m:
            hits.append((m.start(), rank, action))
    if hits:
        return min(hits)[2]
    if re.search(r"genetic variation|gene variation", body, re.I):
        return "standard_dosing"  # DPWG's descriptive texts with no advice mean "no action needed"
    return "insufficient_evidence"


def dose_fraction(text: str) -> tuple[float | None, list[float] | None]:
    """(fraction of standard dose, [low, high] when a range) stated in a recommendation."""
    t = text.replace("–", "-")
    m = re.search(
        r"(\d+)\s*%?\s*(?:-|to)\s*(\d+)\s*% of (?:the )?(?:lowest )?"
        r"(?:normal|standard|usual|typical|recommended)",
        t,
        re.I,
    )
    if m:
        lo, hi = int(m.group(1)) / 100, int(m.group(2)) / 100
        return None, [lo, hi]
    m = re.search(r"(\d+(?:\.\d+)?)\s*(?:to|-)\s*(\d+(?:\.\d+)?)\s*times", t, re.I)
    if m:
        return None, [float(m.group(1)), float(m.group(2))]
    for pattern in (r"reduc\w*[^.%]*?\bby\s*(\d+)\s*%", r"(\d+)\s*%\s*reduction", r"(\d+)\s*%\s*(?:less|lower)"):
        m = re.search(pattern, t, re.I)
        if m:
            return round(1 - int(m.group(1)) / 100, 4), None
    m = re.search(
        r"(\d+)\s*% of (?:the )?(?:lowest )?"
        r"(?:standard|normal|usual|typical|recommended|initial|starting|original)",
        t,
        re.I,
    )
    if m:
        return int(m.group(1)) / 100, None
    m = re.search(r"(\d+(?:\.\d+)?)\s*times the", t, re.I)
    if m:
        return float(m.group(1)), None
    m = re.search(r"(?:reduc|lower|decreas)\w*[^.]*?\b(\d+)-fold", t, re.I)
    if m:
        return round(1 / int(m.group(1)), 4), None
    if re.search(r"double the dose", t, re.I):
        return 2.0, None
    return None, None


def named_alternatives(text: str, drug: str, known_drugs: Iterable[str]) -> list[str]:
    """Drugs of the rule base the recommendation names, in name order (warnings as well as advice)."""
    return [d for d in sorted(known_drugs) if d != drug and re.search(rf"\b{re.escape(d)}\b", text, re.I)]


def curated_strength(
    strengths: list[StrengthEntry], drug: str, source: str, genes: list[str], action: str
) -> tuple[int, str] | None:
    """(index of the curated entry, strength) for an actionable rule; the first matching entry wins."""
    if action in ("standard_dosing", "insufficient_evidence"):
        return None
    for i, s in enumerate(strengths):
        if s.drug == drug and s.source == source and s.gene in genes:
            return i, s.strength
    return None
