"""The warfarin evaluation protocol: which patients count, the seeded split, the CV folds and the metrics.

Every method compared (pgx's model, the IWPC formulas of :mod:`pgx.ml.iwpc_formula`, a fixed
dose) is scored here the same way, on the same patients: mean absolute error in mg/week and
the share of patients predicted within 20 % of their dose, overall, by IWPC dose group and by
race, plus the held-out coverage of the model's prediction interval. ``benchmarks/warfarin_dose.py``
runs the protocol; :mod:`pgx.ml.warfarin_train` selects and fits the model on its training part.
Nothing here is needed to predict a dose for a report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pgx.errors import ModelError
from pgx.ml.iwpc import IwpcRecord
from pgx.ml.iwpc_formula import iwpc_clinical, iwpc_pharmacogenetic
from pgx.ml.warfarin import Interval

#: One seed for the split, the CV folds and every estimator: 19 Feb 2009, the IWPC paper's date.
SEED = 20090219
TEST_SIZE = 0.2
N_FOLDS = 5
FIXED_DOSE_MG_WEEK = 35.0
LOW_DOSE_MAX = 21.0  # mg/week; IWPC's low-dose group is <= 21
HIGH_DOSE_MIN = 49.0  # mg/week; IWPC's high-dose group is >= 49

DoseGroup = Literal["low", "intermediate", "high"]

# -- which patients, which split -----------------------------------------------------------------


def dose_group(dose: float) -> DoseGroup:
    return "low" if dose <= LOW_DOSE_MAX else ("high" if dose >= HIGH_DOSE_MIN else "intermediate")


def has_clinical_inputs(record: IwpcRecord) -> bool:
    """Age, height and weight all recorded: what the IWPC formulas need."""
    c = record.covariates
    return c.age_decade is not None and c.height_cm is not None and c.weight_kg is not None


def has_any_clinical_input(record: IwpcRecord) -> bool:
    """At least one of age, height and weight recorded: pgx predicts such a patient, the formulas may not."""
    c = record.covariates
    return any(v is not None for v in (c.age_decade, c.height_cm, c.weight_kg))


@dataclass(frozen=True)
class Cohort:
    """The patients pgx trains and tests on, and why the others are left out.

    ``patients``: a stable therapeutic dose is recorded (dose present and the table's
    "reached stable dose" flag is 1). The model trains on all of them (a missing height is
    estimated from the patient's other covariates); the four methods are compared on the ``evaluable`` ones, which
    also have age, height and weight, since the IWPC formulas cannot be computed otherwise.
    ``exclusions`` lists (reason, count) in the order the rules are applied.
    """

    patients: tuple[IwpcRecord, ...]
    exclusions: tuple[tuple[str, int], ...]
    total: int

    @property
    def evaluable(self) -> tuple[IwpcRecord, ...]:
        return tuple(r for r in self.patients if has_clinical_inputs(r))


def build_cohort(records: Sequence[IwpcRecord]) -> Cohort:
    rules: list[tuple[str, Callable[[IwpcRecord], bool]]] = [
        ("no therapeutic dose recorded", lambda r: r.dose_mg_week is not None),
        ("therapeutic dose recorded but stable dose not reached (flag 0)", lambda r: r.stable is True),
    ]
    kept, exclusions = list(records), []
    for reason, keep in rules:
        before = len(kept)
        kept = [r for r in kept if keep(r)]
        exclusions.append((reason, before - len(kept)))
    return Cohort(patients=tuple(kept), exclusions=tuple(exclusions), total=len(records))


def evaluable_exclusions(cohort: Cohort) -> list[tuple[str, int]]:
    """Why cohort patients are not in the comparison: (missing field, count), applied in order."""
    left = list(cohort.patients)
    out = []
    for label, get in (
        ("age missing", lambda c: c.age_decade),
        ("height missing", lambda c: c.height_cm),
        ("weight missing", lambda c: c.weight_kg),
    ):
        before = len(left)
        left = [r for r in left if get(r.covariates) is not None]
        out.append((label, before - len(left)))
    return out


def strata(records: Sequence[IwpcRecord]) -> np.ndarray:
    """Dose group x IWPC race, the split's strata (12 groups)."""
    return np.array([f"{dose_group(_dose(r))}|{r.race}" for r in records])


@dataclass(frozen=True)
class Split:
    """20 % held out, stratified by dose group x race, seeded; identical for every method compared."""

    train: tuple[IwpcRecord, ...]
    test: tuple[IwpcRecord, ...]
    seed: int

    def test_ids_sha256(self) -> str:
        """Fingerprint of the held-out patients, recorded in the model card to prove the split is unchanged."""
        return hashlib.sha256("\n".join(sorted(r.subject for r in self.test)).encode()).hexdigest()


def split(cohort: Cohort, seed: int = SEED) -> Split:
    from sklearn.model_selection import train_test_split  # lazy: scikit-learn is slow to import

    idx = np.arange(len(cohort.patients))
    train_idx, test_idx = train_test_split(
        idx, test_size=TEST_SIZE, stratify=strata(cohort.patients), random_state=seed
    )
    pick = cohort.patients
    return Split(
        train=tuple(pick[i] for i in sorted(train_idx)), test=tuple(pick[i] for i in sorted(test_idx)), seed=seed
    )


def cv_folds(records: Sequence[IwpcRecord], seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """5 stratified folds (same strata, same seed) of the training part: model selection and CV figures."""
    from sklearn.model_selection import StratifiedKFold  # lazy: scikit-learn is slow to import

    folds = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=seed)
    return list(folds.split(np.zeros(len(records)), strata(records)))


def _dose(record: IwpcRecord) -> float:
    if record.dose_mg_week is None:
        raise ModelError(f"IWPC line {record.line}: patient {record.subject} has no dose; build_cohort drops these")
    return record.dose_mg_week


def design(records: Sequence[IwpcRecord]) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix and weekly doses."""
    return np.vstack([r.features() for r in records]), np.array([_dose(r) for r in records])


# -- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    n: int
    mae: float  # mg/week
    within20: float  # share (0-1) predicted within 20 % of the actual dose

    def as_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mae_mg_week": round(self.mae, 3), "within_20pct": round(self.within20, 4)}


def metrics(predicted: np.ndarray, actual: np.ndarray) -> Metrics:
    predicted, actual = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    if len(actual) == 0:
        return Metrics(0, float("nan"), float("nan"))
    err = np.abs(predicted - actual)
    return Metrics(n=len(actual), mae=float(err.mean()), within20=float(np.mean(err <= 0.2 * actual)))


#: Subgroups every comparison reports, in table order.
SUBGROUPS: tuple[tuple[str, Callable[[IwpcRecord], bool]], ...] = (
    ("all", lambda r: True),
    ("low (≤ 21 mg/week)", lambda r: dose_group(_dose(r)) == "low"),
    ("intermediate (21–49)", lambda r: dose_group(_dose(r)) == "intermediate"),
    ("high (≥ 49)", lambda r: dose_group(_dose(r)) == "high"),
    ("White", lambda r: r.race == "white"),
    ("Asian", lambda r: r.race == "asian"),
    ("Black or African American", lambda r: r.race == "black"),
    ("Unknown/mixed", lambda r: r.race == "missing_or_mixed"),
)


def evaluate(records: Sequence[IwpcRecord], predictions: Mapping[str, np.ndarray]) -> dict[str, dict[str, Metrics]]:
    """Per method and subgroup, on the records with the IWPC formulas' inputs (the comparison set).

    ``predictions[method]`` is aligned with ``records`` (weekly mg; NaN where a method cannot predict).
    """
    keep = np.array([has_clinical_inputs(r) for r in records], dtype=bool)
    actual = np.array([_dose(r) for r in records])
    out: dict[str, dict[str, Metrics]] = {}
    for method, pred in predictions.items():
        pred = np.asarray(pred, dtype=float)
        out[method] = {}
        for name, member in SUBGROUPS:
            rows = keep & np.array([member(r) for r in records], dtype=bool)
            if np.isnan(pred[rows]).any():
                raise ModelError(f"method {method} did not predict every comparable patient in subgroup {name}")
            out[method][name] = metrics(pred[rows], actual[rows])
    return out


def baseline_predictions(records: Sequence[IwpcRecord]) -> dict[str, np.ndarray]:
    """The three reference methods for each record (NaN where a formula lacks its inputs)."""

    def nan_if_none(v: float | None) -> float:
        return float("nan") if v is None else v

    return {
        "IWPC pharmacogenetic": np.array(
            [nan_if_none(iwpc_pharmacogenetic(r.covariates, r.cyp2c9_genotype(), r.vkorc1)) for r in records]
        ),
        "IWPC clinical": np.array([nan_if_none(iwpc_clinical(r.covariates)) for r in records]),
        "fixed 35 mg/week": np.full(len(records), FIXED_DOSE_MG_WEEK),
    }


# -- the prediction interval --------------------------------------------------------------------

#: Rows of :func:`interval_coverage`, in table order.
COVERAGE_GROUPS = (
    "comparable",
    "comparable, low",
    "comparable, intermediate",
    "comparable, high",
    "missing age, height or weight",
)


def interval_coverage(
    records: Sequence[IwpcRecord], weekly: np.ndarray, interval: Interval
) -> dict[str, tuple[int, float]]:
    """(n, share inside ``interval``) of comparable patients overall and by dose group, and of incomplete ones.

    ``weekly`` is the model's predicted weekly dose, aligned with ``records``; patients missing
    all of age, height and weight (whom pgx does not predict) are left out.
    """
    dose = np.array([_dose(r) for r in records])
    roots = np.sqrt(np.asarray(weekly, dtype=float))
    rows: dict[str, list[bool]] = {}
    for rec, d, s in zip(records, dose, roots, strict=True):
        complete = has_clinical_inputs(rec)
        if not complete and not has_any_clinical_input(rec):
            continue
        lo, hi = interval.bounds(float(s), complete)
        inside = lo <= d <= hi
        keys = [f"comparable, {dose_group(d)}", "comparable"] if complete else ["missing age, height or weight"]
        for key in keys:
            rows.setdefault(key, []).append(inside)
    return {k: (len(rows[k]), float(np.mean(rows[k]))) for k in COVERAGE_GROUPS if k in rows}
