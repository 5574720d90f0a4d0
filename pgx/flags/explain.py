"""A flag in words, line by line: what ``pgx graph path`` prints.

Built from the flag the report shows (never from a second evaluation), so the explanation and
the report cannot disagree: the first line is the flag, then each evidence path
(genotype -> phenotype -> pathway -> drug -> rule), then what could not be assessed and the
notes on how the flag was decided.
"""

from __future__ import annotations

from pgx.flags.decide import patient_flags
from pgx.flags.models import DrugFlag
from pgx.knowledge.loader import KnowledgeBase
from pgx.patient.state import PatientState
from pgx.rules.loader import RuleBase


def report_flag(kb: KnowledgeBase, rb: RuleBase, patient: PatientState, drug: str) -> DrugFlag | None:
    """The drug's flag exactly as this patient's report has it: the report's decision over every drug, this
    one picked (None when the report has no flag for it: no rule, and no uncovered guideline that applies)."""
    _, flags = patient_flags(kb, rb, patient, None)
    return next((f for f in flags if f.drug == drug), None)


def explain(flag: DrugFlag) -> list[str]:
    action = f" ({flag.action.replace('_', ' ')})" if flag.action else ""
    lines = [f"{flag.drug}: {flag.level.value}{action}"]
    lines += [" -> ".join(step.text for step in path) for path in flag.evidence]
    for src in flag.sources:
        if not src.scenarios:
            lines.append(f"{src.source}: {src.status.replace('_', ' ')}: {src.reason}")
        for sc in src.scenarios:
            if not sc.rules and sc.note:
                lines.append(f"{src.source}: {', '.join(sc.genes.values())}: {sc.note}")
            lines += [" -> ".join([r.rule_id, *r.details]) for r in sc.rules if r.details]
    if not flag.sources:
        lines += flag.not_assessed
    lines += [f"note: {n}" for n in flag.notes]
    return lines
