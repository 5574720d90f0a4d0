"""HTML rendering of a DrugReport: one self-contained page for a pharmacist, every input value escaped."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from pgx.calling.models import GeneCall
from pgx.flags.models import DrugFlag
from pgx.report.models import DrugReport
from pgx.rules.outcome import AppliedRule, FlagLevel

LEVELS = {
    FlagLevel.contraindicated: "contraindicated / avoid",
    FlagLevel.change: "change dose",
    FlagLevel.caution: "caution",
    FlagLevel.standard: "standard",
    FlagLevel.no_guideline: "no guideline",
    FlagLevel.cannot_assess: "cannot assess",
}
ACTIONS = {
    "contraindicated": "do not use (contraindicated)",
    "avoid": "avoid; use an alternative",
    "reduce_dose": "reduce dose",
    "increase_dose": "increase dose",
    "monitor": "monitor (drug levels or response)",
    "standard_dosing": "standard dosing",
    "dose_by_algorithm": "dose with a pharmacogenetic algorithm",
    "insufficient_evidence": "no recommendation for this result",
}


def _fraction(factor: float | None, rng: list[float] | None) -> str:
    if rng:
        return f" ({rng[0]:.0%}–{rng[1]:.0%} of standard)" if rng[1] <= 1 else f" ({rng[0]:g}–{rng[1]:g}× standard)"
    if factor is None:
        return ""
    return f" ({factor:.0%} of standard)" if factor <= 1 else f" ({factor:g}× standard)"


def _dose(obj: AppliedRule | DrugFlag) -> str:
    """A rule's dose, or for a drug the dose of the first rule (CPIC first) that gives the drug's action.

    Never borrows a dose from a rule with a different action: "avoid (70% of standard)" would
    read as advice to give 70% when only another guideline's other branch says so.
    """
    if isinstance(obj, AppliedRule):
        text = _fraction(obj.dose_factor, obj.dose_factor_range)
        # a dose on an avoid rule is the guideline's fallback, never the advice itself
        if text and obj.action in ("avoid", "contraindicated"):
            return text.replace(" (", " (if used anyway: ", 1)
        return text
    for s in sorted(obj.sources, key=lambda s: s.source != "CPIC"):
        for sc in s.scenarios:
            for r in sc.rules:
                if r.action == obj.action and (r.dose_factor is not None or r.dose_factor_range):
                    return _dose(r)
    return ""


def _phenotypes(call: GeneCall) -> str:
    """Alternatives across tied diplotypes read "or"; facts about one result (HLA allele statuses) read ","."""
    return (" or " if len(call.diplotypes) > 1 else ", ").join(call.phenotypes) or "—"


_ENV = Environment(
    loader=PackageLoader("pgx", "report/templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(report: DrugReport) -> str:
    template = _ENV.get_template("drug_report.html.j2")
    return template.render(report=report, levels=LEVELS, actions=ACTIONS, dose=_dose, phenotypes=_phenotypes)
