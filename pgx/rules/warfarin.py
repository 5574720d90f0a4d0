"""CPIC's warfarin dosing flowchart as a rule kind of its own.

Not a lookup: the guideline asks for the starting dose to be computed with a validated
pharmacogenetic algorithm (VKORC1 and CYP2C9 plus clinical factors) and then adjusted:
CYP4F2*3 carriers of non-African ancestry up 5-10 %; in African ancestry, CYP2C9 *5/*6/*8/*11
carriers and rs12777823 A carriers down. Ancestry is not in a VCF, so both branches are given.
"""

from __future__ import annotations

from pgx.diplotype import Diplotype
from pgx.patient.state import PatientState
from pgx.rules.outcome import AppliedRule, Scenario, SourceOutcome
from pgx.rules.schema import WarfarinDosingRule

GENES = ("CYP2C9", "CYP4F2", "VKORC1")


def _pct(r: list[float]) -> str:
    return f"{r[0]:.0%}–{r[1]:.0%}"


def evaluate_warfarin(rule: WarfarinDosingRule, patient: PatientState) -> SourceOutcome:
    c9, vk, f2 = patient.result("CYP2C9"), patient.result("VKORC1"), patient.result("CYP4F2")
    missing = [r for r in (c9, vk) if not r.called]
    if missing:
        why = "; ".join(f"{r.gene} not called ({r.reason})" for r in missing)
        return SourceOutcome(source=rule.source, genes=list(GENES), status="cannot_assess", reason=why)
    scenarios = []
    for o9 in c9.options:
        for ov in vk.options:
            steps = [
                f"Compute the starting dose with a validated pharmacogenetic algorithm "
                f"({'; '.join(rule.algorithms)}) using CYP2C9 {o9.diplotype} and "
                f"VKORC1 {ov.phenotype or ov.diplotype}."
            ]
            if f2.called and any(Diplotype.parse(o.diplotype).carries("*3") for o in f2.options if o.diplotype):
                steps.append(
                    "Non-African ancestry: CYP4F2*3 carrier, increase the computed dose by "
                    f"{_pct(rule.cyp4f2_increase)}."
                )
            elif not f2.called:
                steps.append("CYP4F2 not called: the CYP4F2*3 adjustment (non-African ancestry) cannot be applied.")
            c9_dip = Diplotype.parse(o9.diplotype or "")
            carried = [a for a in rule.african_cyp2c9_alleles if c9_dip.carries(a)]
            if carried:
                steps.append(
                    f"African ancestry: CYP2C9 {'/'.join(carried)} carrier, decrease the computed dose by "
                    f"{_pct(rule.african_cyp2c9_decrease)}."
                )
            if o9.conversion is not None:
                steps.append(
                    f"CYP2C9 activity is further lowered by {', '.join(o9.conversion.perpetrators)} "
                    f"({o9.conversion.effect}); the algorithms take the genotype only, so expect a lower "
                    "dose requirement than computed."
                )
            rs = c9.variants.get(str(rule.rs12777823_position))
            if rs is None or any(a is None for a in rs):
                steps.append("rs12777823 not genotyped: the African-ancestry adjustment for it cannot be applied.")
            elif "A" in rs:
                steps.append(
                    f"African ancestry: rs12777823 A carrier, decrease the computed dose by "
                    f"{_pct(rule.african_rs12777823_decrease)}."
                )
            applied = AppliedRule(
                rule_id=rule.id,
                source=rule.source,
                action="dose_by_algorithm",
                rationale=rule.rationale,
                citation=rule.citation,
                details=steps,
            )
            labels = {"CYP2C9": o9.diplotype or "", "VKORC1": ov.phenotype or ov.diplotype or ""}
            scenarios.append(Scenario(genes=labels, rules=[applied]))
    return SourceOutcome(
        source=rule.source, genes=list(GENES), status="matched", action="dose_by_algorithm", scenarios=scenarios
    )
