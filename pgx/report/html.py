"""HTML rendering of a DrugReport: one self-contained page for a pharmacist, every input value escaped."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from pgx.report.drugs import DrugReport

LEVELS = {
    "contraindicated": "contraindicated / avoid",
    "change": "change dose",
    "caution": "caution",
    "standard": "standard",
    "no_guideline": "no guideline",
    "cannot_assess": "cannot assess",
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


def _dose(obj: object) -> str:
    factor = getattr(obj, "dose_factor", None)
    rng = getattr(obj, "dose_factor_range", None)
    if factor is None and rng is None:
        sources = getattr(obj, "sources", None) or []
        for s in sources:
            for sc in s.scenarios:
                for r in sc.rules:
                    if r.dose_factor is not None or r.dose_factor_range:
                        return _dose(r)
        return ""
    if rng:
        return f" ({rng[0]:.0%}–{rng[1]:.0%} of standard)" if rng[1] <= 1 else f" ({rng[0]:g}–{rng[1]:g}× standard)"
    assert factor is not None
    return f" ({factor:.0%} of standard)" if factor <= 1 else f" ({factor:g}× standard)"


_ENV = Environment(loader=PackageLoader("pgx", "report/templates"), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)


def render_html(report: DrugReport) -> str:
    template = _ENV.get_template("drug_report.html.j2")
    return template.render(report=report, levels=LEVELS, actions=ACTIONS, dose=_dose)
