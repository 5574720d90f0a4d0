"""Reading an outcomes table for ``pgx ml train``, and turning each row into a patient.

Columns (CSV, header required): ``patient_id``, ``drug``, ``responded`` (yes/no, 1/0,
true/false) and optionally ``sample`` (the patient's sample in ``--vcf``/``--calls``),
``indication``, ``age``, ``sex``, ``weight_kg``, ``medications`` (``;``-separated) and
``phenotypes`` (``GENE=PHENOTYPE;GENE=activity score``, for results from another lab).
Every problem is reported as file:line with the column, and nothing is trained.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from pgx.calling.models import CallReport
from pgx.errors import PatientFileError
from pgx.knowledge.loader import KnowledgeBase
from pgx.ml.cohort import OutcomeRow, state_from_phenotypes
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import PatientState, patient_state

REQUIRED = ("patient_id", "drug", "responded")
TRUE, FALSE = {"yes", "y", "1", "true"}, {"no", "n", "0", "false"}


def _number(path: Path, line: int, column: str, text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise PatientFileError(path, f"column {column}: {text!r} is not a number", line=line) from None


def read_outcomes(path: str | Path, kb: KnowledgeBase) -> list[OutcomeRow]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PatientFileError(path, f"cannot read outcomes table: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PatientFileError(path, "not a UTF-8 text file (expected a CSV outcomes table)") from None
    known_drugs = {d.name for d in kb.drugs.drugs} if kb.drugs else set()
    rows: list[OutcomeRow] = []
    # one CSV line per row: the line numbers below are file lines
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise PatientFileError(
            path, f"missing column(s) {', '.join(missing)}", line=1, hint="required: patient_id, drug, responded"
        )
    for line, rec in enumerate(reader, start=2):
        rec = {k: (v or "").strip() for k, v in rec.items() if k is not None}
        drug = rec["drug"].lower()
        if drug not in known_drugs:
            raise PatientFileError(path, f"column drug: unknown drug {rec['drug']!r}", line=line)
        answer = rec["responded"].lower()
        if answer not in TRUE | FALSE:
            raise PatientFileError(path, f"column responded: {rec['responded']!r} is not yes/no", line=line)
        if not rec["patient_id"]:
            raise PatientFileError(path, "column patient_id is empty", line=line)
        phenotypes = {}
        for item in filter(None, (p.strip() for p in rec.get("phenotypes", "").split(";"))):
            gene, sep, value = item.partition("=")
            if not sep or gene.strip() not in kb.genes:
                raise PatientFileError(
                    path, f"column phenotypes: {item!r} is not GENE=PHENOTYPE for a gene pgx knows", line=line
                )
            phenotypes[gene.strip()] = value.strip()
        try:
            cov = PatientCovariates(
                age=_number(path, line, "age", rec.get("age", "")),
                sex=rec.get("sex") or None,
                weight_kg=_number(path, line, "weight_kg", rec.get("weight_kg", "")),
                medications=[m for m in rec.get("medications", "").split(";") if m.strip()],
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise PatientFileError(path, f"column {err['loc'][0]}: {err['msg']}", line=line) from None
        rows.append(
            OutcomeRow(
                patient_id=rec["patient_id"],
                sample=rec.get("sample") or None,
                drug=drug,
                indication=rec.get("indication") or None,
                responded=answer in TRUE,
                covariates=cov,
                phenotypes=phenotypes,
            )
        )
    if not rows:
        raise PatientFileError(path, "no outcome rows")
    return rows


def row_states(
    path: str | Path, rows: list[OutcomeRow], kb: KnowledgeBase, calls: CallReport | None
) -> list[PatientState]:
    """The patient behind each row (before phenoconversion): from its phenotypes, or its sample's calls."""
    by_sample = {s.sample: s.genes for s in calls.samples} if calls is not None else {}
    states = []
    for line, r in enumerate(rows, start=2):
        meds = r.covariates.medications
        if r.phenotypes:
            states.append(state_from_phenotypes(kb, r.patient_id, r.phenotypes, meds))
        elif r.sample and r.sample in by_sample:
            states.append(patient_state(r.sample, by_sample[r.sample], meds))
        else:
            where = f"sample {r.sample!r} is not in the calls given" if r.sample else "no phenotypes and no sample"
            hint = "give its calls with {vcf} or {calls}" if r.sample else None
            raise PatientFileError(path, f"{where}: cannot tell the patient's genotype", line=line, hint=hint)
    return states
