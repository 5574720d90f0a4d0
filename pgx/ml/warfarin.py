"""Warfarin maintenance dose: the IWPC 2009 formulas, pgx's model trained on the IWPC cohort, and prediction.

Three things live here, because they must agree with each other:

1. The published IWPC formulas (NEJM 2009;360:753-64, PMID 19228618), coefficient for
   coefficient: they are the baseline pgx's model has to beat, and the benchmark re-checks them
   against the paper's own validation figures.
2. The evaluation protocol: which patients count, the seeded split, the CV folds, the metrics
   (mean absolute error in mg/week, share of patients predicted within 20 % of their dose).
3. pgx's model (a scikit-learn pipeline on the features of :mod:`pgx.ml.iwpc`, predicting the
   square root of the weekly dose, as IWPC did), its split-conformal prediction interval, and
   :func:`predict_dose`, which turns a report's genotype calls and a ``--patient`` file into one
   :class:`~pgx.ml.results.DosePrediction` per possible genotype.

The model is a starting-dose estimate next to the CPIC algorithm; it never replaces INR monitoring.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pgx.errors import ModelError
from pgx.ml.artifact import LoadedModel, bundled_model, from_rows, load_model
from pgx.ml.explain import perturbation_effects, top_effects
from pgx.ml.iwpc import (
    DRUG_CLASSES,
    FEATURES,
    GROUPS,
    Covariates,
    Cyp2c9Genotype,
    DrugClass,
    IwpcRecord,
    cyp2c9_genotype,
    features,
    near_misses,
)
from pgx.ml.patient import PatientCovariates
from pgx.ml.results import Contribution, DosePrediction
from pgx.rules.patient import GeneOption, PatientState

MODEL_NAME = "warfarin_dose"
MODEL_KIND = "warfarin_dose"
DRUG = "warfarin"

#: One seed for the split, the CV folds and every estimator: 19 Feb 2009, the IWPC paper's date.
SEED = 20090219
TEST_SIZE = 0.2
N_FOLDS = 5
INTERVAL_LEVEL = 0.8
FIXED_DOSE_MG_WEEK = 35.0
LOW_DOSE_MAX = 21.0  # mg/week; IWPC's low-dose group is <= 21
HIGH_DOSE_MIN = 49.0  # mg/week; IWPC's high-dose group is >= 49
ADULT_AGE = 18

DoseGroup = Literal["low", "intermediate", "high"]

# -- the published IWPC formulas ------------------------------------------------------------------

#: Pharmacogenetic formula, sqrt(weekly dose in mg) = intercept + sum(coefficient x term).
IWPC_PHARMACOGENETIC: Mapping[str, float] = {
    "intercept": 5.6044,
    "age_decade": -0.2614,
    "height_cm": 0.0087,
    "weight_kg": 0.0128,
    "vkorc1_A/G": -0.8677,
    "vkorc1_A/A": -1.6974,
    "vkorc1_unknown": -0.4854,
    "cyp2c9_*1/*2": -0.5211,
    "cyp2c9_*1/*3": -0.9357,
    "cyp2c9_*2/*2": -1.0616,
    "cyp2c9_*2/*3": -1.9206,
    "cyp2c9_*3/*3": -2.3312,
    "cyp2c9_unknown": -0.2188,
    "asian": -0.1092,
    "black": -0.2760,
    "missing_or_mixed": -0.1032,
    "enzyme_inducer": 1.1816,
    "amiodarone": -0.5503,
}
#: Clinical formula (no genotype), same form.
IWPC_CLINICAL: Mapping[str, float] = {
    "intercept": 4.0376,
    "age_decade": -0.2546,
    "height_cm": 0.0118,
    "weight_kg": 0.0134,
    "asian": -0.6752,
    "black": 0.4060,
    "missing_or_mixed": 0.0443,
    "enzyme_inducer": 1.2799,
    "amiodarone": -0.5695,
}


def _clinical_terms(cov: Covariates, coef: Mapping[str, float]) -> float | None:
    """The terms both formulas share; None when age, height or weight is missing (the formula needs all three).

    A drug the table leaves unrecorded counts as not taken, as in the IWPC derivation.
    """
    if cov.age_decade is None or cov.height_cm is None or cov.weight_kg is None:
        return None
    s = (
        coef["intercept"]
        + coef["age_decade"] * cov.age_decade
        + coef["height_cm"] * cov.height_cm
        + coef["weight_kg"] * cov.weight_kg
    )
    s += coef.get(cov.race, 0.0)
    s += coef["enzyme_inducer"] * bool(cov.enzyme_inducer) + coef["amiodarone"] * bool(cov.amiodarone)
    return s


def iwpc_pharmacogenetic(cov: Covariates, cyp2c9: Cyp2c9Genotype | None, vkorc1: str | None) -> float | None:
    """Weekly dose (mg) by the IWPC pharmacogenetic formula; None without age, height and weight.

    CYP2C9 genotypes outside the formula's six classes are mapped to the nearest class by
    CPIC allele activity value: an allele of activity 0.5 (*5, *8, *11, *14, ...) counts as
    *2, one of activity 0 (*6, *13, ...) as *3, a normal-function allele (*9) as *1; a
    genotype with an allele of uncertain function is "unknown". The paper grouped rare
    genotypes the same way ("unknown" otherwise); this keeps their known loss of function.
    """
    s = _clinical_terms(cov, IWPC_PHARMACOGENETIC)
    if s is None:
        return None
    s += IWPC_PHARMACOGENETIC.get(f"vkorc1_{vkorc1 or 'unknown'}", 0.0)  # G/G is the reference
    category = None if cyp2c9 is None else cyp2c9.iwpc_category
    s += IWPC_PHARMACOGENETIC.get(f"cyp2c9_{category or 'unknown'}", 0.0)  # *1/*1 is the reference
    return s * s


def iwpc_clinical(cov: Covariates) -> float | None:
    """Weekly dose (mg) by the IWPC clinical formula; None without age, height and weight."""
    s = _clinical_terms(cov, IWPC_CLINICAL)
    return None if s is None else s * s


# -- which patients, which split -----------------------------------------------------------------


def dose_group(dose: float) -> DoseGroup:
    return "low" if dose <= LOW_DOSE_MAX else ("high" if dose >= HIGH_DOSE_MIN else "intermediate")


def has_clinical_inputs(record: IwpcRecord) -> bool:
    """Age, height and weight all recorded: what the IWPC formulas need."""
    c = record.covariates
    return c.age_decade is not None and c.height_cm is not None and c.weight_kg is not None


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
    from sklearn.model_selection import train_test_split

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
    from sklearn.model_selection import StratifiedKFold

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


# -- pgx's model ------------------------------------------------------------------------------


def predict_weekly(estimator: Any, x: np.ndarray) -> np.ndarray:
    """Weekly dose (mg) from a fitted pipeline, which predicts sqrt(weekly dose)."""
    root = np.asarray(estimator.predict(np.asarray(x, dtype=float)), dtype=float)
    return np.square(np.clip(root, 0.0, None))


def _monotonic() -> list[int]:
    """HistGradientBoosting may only lower the dose with more VKORC1 A alleles, CYP2C9 reduced alleles
    or amiodarone, and only raise it with an enzyme inducer: known pharmacology, so that a few
    unusual patients cannot teach a tree that a more sensitive genotype needs more warfarin."""
    signs = {
        "vkorc1_rs9923231_a_count": -1,
        "cyp2c9_star2_count": -1,
        "cyp2c9_star3_count": -1,
        "cyp2c9_other_reduced_count": -1,
        "amiodarone": -1,
        "enzyme_inducer": 1,
    }
    return [signs.get(name, 0) for name in FEATURES]


MissingStrategy = Literal["impute", "indicator"]


def imputer(seed: int = SEED) -> Any:
    """Fills each missing covariate from the patient's others (IterativeImputer, Bayesian ridge, 10 rounds).

    Why not a missing indicator (or HistGradientBoosting's native NaN branch): in the IWPC
    table a field is missing because a *site* did not record it, and sites differ in dose.
    A model that learns from "weight missing" learns the site, and then moves the dose of a
    patient whose prescriber merely left weight out. Withholding a covariate from CV patients
    who have it shows this: with indicators the dose shifts by several mg/week on average
    (see benchmarks/RESULTS.md); estimated from the patient's own sex, race, age and body size
    it hardly shifts, and the prediction is only as much less certain as the data says.
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (registers IterativeImputer)
    from sklearn.impute import IterativeImputer

    return IterativeImputer(max_iter=10, random_state=seed)


def candidates(seed: int = SEED, missing: MissingStrategy = "impute") -> dict[str, Any]:
    """The model families compared by CV, with a small fixed grid. All fit sqrt(weekly dose).

    With ``missing="impute"`` (pgx's choice) they receive rows already completed by
    :func:`imputer`; with ``"indicator"`` (kept for the benchmark's comparison) the linear and
    forest models impute the median and add a missing indicator per column, and
    HistGradientBoosting uses its native NaN branches.

    - ``ridge``: standardisation, RidgeCV (alpha by efficient leave-one-out over 1e-3..1e3).
    - ``hgb_<loss>_<leaves>``: HistGradientBoosting with the monotonic constraints of
      :func:`_monotonic`; squared error (conditional mean of sqrt dose, IWPC's target) or
      absolute error (conditional median, which is what MAE rewards; the median of sqrt dose
      is the sqrt of the median dose), 7 or 15 leaves, 200 rounds at rate 0.05, >= 80 patients a leaf.
    - ``random_forest``: 100 trees of >= 20 patients a leaf (a few MB on disk).
    The average of ridge and the best boosted model is scored too (see :func:`train`).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def fill(*steps: Any) -> Any:
        first = [SimpleImputer(strategy="median", add_indicator=True)] if missing == "indicator" else []
        return make_pipeline(*first, *steps)

    out: dict[str, Any] = {"ridge": fill(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))}
    for loss in ("squared_error", "absolute_error"):
        for leaves in (7, 15):
            out[f"hgb_{loss}_{leaves}"] = HistGradientBoostingRegressor(
                loss=loss,
                learning_rate=0.05,
                max_iter=200,
                max_leaf_nodes=leaves,
                min_samples_leaf=80,
                l2_regularization=1.0,
                monotonic_cst=_monotonic(),
                random_state=seed,
            )
    out["random_forest"] = fill(
        RandomForestRegressor(n_estimators=100, min_samples_leaf=20, max_features=0.5, random_state=seed)
    )
    return out


AVERAGE = "average(ridge, {})"


@dataclass(frozen=True)
class Interval:
    """Split-conformal half-widths in sqrt(mg/week), from out-of-fold residuals of the chosen model.

    ``complete``: patients with age, height and weight; ``incomplete``: patients missing some
    (not all) of them, whose errors are larger. The interval is (max(s - q, 0)^2, (s + q)^2)
    for a predicted root s: symmetric where the model's errors are, wider above the dose than
    below it in mg/week, like the doses themselves.
    """

    level: float
    complete: float
    incomplete: float

    def bounds(self, root: float, complete: bool) -> tuple[float, float]:
        q = self.complete if complete else self.incomplete
        return max(root - q, 0.0) ** 2, (root + q) ** 2


def conformal_quantile(residuals: np.ndarray, level: float) -> float:
    """The ceil((n+1) level)-th smallest absolute residual: finite-sample coverage >= level on exchangeable data."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    k = min(math.ceil((len(r) + 1) * level), len(r))
    return float(r[k - 1])


RootPredictor = Callable[[np.ndarray], np.ndarray]


@dataclass
class TrainingReport:
    """What :func:`train` measured. ``cv`` is scored on the training part's comparable patients.

    ``fold_predictors`` are the chosen model's five fold fits (validation rows, and a function
    from raw feature rows to predicted sqrt dose), for experiments on out-of-fold patients.
    """

    chosen: str
    missing: MissingStrategy
    cv: dict[str, Metrics]
    oof_weekly: dict[str, np.ndarray]  # candidate -> out-of-fold weekly dose, aligned with the records
    interval: Interval
    seed: int
    n_train: int
    fold_predictors: list[tuple[np.ndarray, RootPredictor]] = field(default_factory=list)


def _fold_predictor(fill: Any, model: Any) -> RootPredictor:
    return lambda x: np.asarray(model.predict(x if fill is None else fill.transform(x)), dtype=float)


def _average(a: RootPredictor, b: RootPredictor) -> RootPredictor:
    return lambda x: (a(x) + b(x)) / 2


def train(
    records: Sequence[IwpcRecord], seed: int = SEED, missing: MissingStrategy = "impute"
) -> tuple[Any, TrainingReport]:
    """Select a model by 5-fold CV MAE on ``records`` (the training part only), refit it on all of them.

    Candidates are :func:`candidates` plus the average of ridge and the best boosted model (a
    VotingRegressor; its out-of-fold prediction is exactly the average of its members'). The
    score is MAE over the comparable patients of the validation folds (those the methods are
    compared on); every cohort patient of a training fold is used for fitting. The imputer is
    fitted on each training fold only. The conformal interval comes from the chosen model's
    out-of-fold residuals. Returns a fitted Pipeline(imputer, model) that predicts sqrt(dose).
    """
    from sklearn.base import clone
    from sklearn.ensemble import VotingRegressor
    from sklearn.pipeline import make_pipeline

    records = list(records)
    x, dose = design(records)
    root = np.sqrt(dose)
    comparable = np.array([has_clinical_inputs(r) for r in records])
    models = candidates(seed, missing)
    roots = {name: np.empty(len(root)) for name in models}
    predictors: dict[str, list[tuple[np.ndarray, RootPredictor]]] = {name: [] for name in models}
    for fit_idx, val_idx in cv_folds(records, seed):
        fill = None if missing == "indicator" else clone(imputer(seed)).fit(x[fit_idx])
        x_fit = x[fit_idx] if fill is None else fill.transform(x[fit_idx])
        for name, est in models.items():
            predictor = _fold_predictor(fill, clone(est).fit(x_fit, root[fit_idx]))
            roots[name][val_idx] = predictor(x[val_idx])
            predictors[name].append((val_idx, predictor))
    best_hgb = min((n for n in roots if n.startswith("hgb_")), key=lambda n: _mae(roots[n], dose, comparable))
    average = AVERAGE.format(best_hgb)
    roots[average] = (roots["ridge"] + roots[best_hgb]) / 2
    predictors[average] = [
        (v, _average(a, b)) for (v, a), (_, b) in zip(predictors["ridge"], predictors[best_hgb], strict=True)
    ]
    models[average] = VotingRegressor([("ridge", models["ridge"]), ("hgb", models[best_hgb])])
    cv = {name: metrics(np.square(r[comparable]), dose[comparable]) for name, r in roots.items()}
    chosen = min(cv, key=lambda n: (cv[n].mae, n))
    residual = roots[chosen] - root
    some = np.array([not has_clinical_inputs(r) and has_any_clinical_input(r) for r in records])
    interval = Interval(
        level=INTERVAL_LEVEL,
        complete=conformal_quantile(residual[comparable], INTERVAL_LEVEL),
        incomplete=conformal_quantile(residual[some], INTERVAL_LEVEL)
        if some.any()
        else conformal_quantile(residual, INTERVAL_LEVEL),
    )
    steps = [clone(models[chosen])] if missing == "indicator" else [imputer(seed), clone(models[chosen])]
    estimator = make_pipeline(*steps).fit(x, root)
    report = TrainingReport(
        chosen=chosen,
        missing=missing,
        cv=cv,
        oof_weekly={n: np.square(r) for n, r in roots.items()},
        interval=interval,
        seed=seed,
        n_train=len(records),
        fold_predictors=predictors[chosen],
    )
    return estimator, report


def _mae(root_pred: np.ndarray, dose: np.ndarray, rows: np.ndarray) -> float:
    return float(np.mean(np.abs(np.square(root_pred[rows]) - dose[rows])))


def has_any_clinical_input(record: IwpcRecord) -> bool:
    """At least one of age, height and weight recorded: pgx predicts such a patient, the formulas may not."""
    c = record.covariates
    return any(v is not None for v in (c.age_decade, c.height_cm, c.weight_kg))


# -- the reference patient and the card ------------------------------------------------------------


def reference_row(records: Sequence[IwpcRecord]) -> np.ndarray:
    """The patient every contribution is measured against.

    VKORC1 -1639 G/G, CYP2C9 *1/*1, White, male, non-smoker, target INR 2.5, no amiodarone or
    enzyme inducer, and the cohort's median age decade, height and weight.
    """
    cov = [r.covariates for r in records]

    def median(values: list[float | int | None]) -> float:
        return float(np.median([v for v in values if v is not None]))

    ref = Covariates(
        age_decade=int(median([c.age_decade for c in cov])),
        height_cm=round(median([c.height_cm for c in cov]), 1),
        weight_kg=round(median([c.weight_kg for c in cov]), 1),
        sex="male",
        race="white",
        amiodarone=False,
        enzyme_inducer=False,
        smoker=False,
        target_inr=2.5,
    )
    return features(ref, cyp2c9_genotype("*1/*1"), "G/G")


def check_rows() -> np.ndarray:
    """Ten typical and awkward patients (NaNs included) whose predictions the card records and load re-checks."""

    def row(c9: str | None, vk: str | None, **cov: Any) -> np.ndarray:
        return features(Covariates(**cov), None if c9 is None else cyp2c9_genotype(c9), vk)

    full = {
        "age_decade": 6,
        "height_cm": 170.0,
        "weight_kg": 75.0,
        "sex": "male",
        "race": "white",
        "amiodarone": False,
        "enzyme_inducer": False,
        "smoker": False,
        "target_inr": 2.5,
    }
    return np.vstack(
        [
            row("*1/*1", "G/G", **full),
            row("*3/*3", "A/A", **full),
            row("*1/*3", "A/G", **{**full, "age_decade": 7, "sex": "female", "weight_kg": 62.0, "amiodarone": True}),
            row("*1/*2", "A/A", **{**full, "race": "asian", "height_cm": 158.0, "weight_kg": 55.0}),
            row("*1/*11", "G/G", **{**full, "race": "black", "enzyme_inducer": True, "weight_kg": 110.0}),
            row(None, None, **{**full, "race": "missing_or_mixed"}),
            row("*2/*3", "A/G", age_decade=8, height_cm=None, weight_kg=68.0, race="white"),
            row("*1/*1", "A/G", age_decade=5, height_cm=182.0, weight_kg=None, sex=None),
            row("*1/*1", "G/G", age_decade=None, height_cm=165.0, weight_kg=80.0, smoker=True),
            row("*1/*7", "A/A", age_decade=4, height_cm=175.0, weight_kg=90.0, target_inr=3.0),
        ]
    )


# -- prediction for a report ----------------------------------------------------------------------


CARD_EXTRA = ("interval", "reference", "coverage", "split")


@functools.lru_cache(maxsize=4)
def _load(path: str) -> LoadedModel:
    model = load_model(path, kind=MODEL_KIND, predict=predict_weekly)
    if model.card.features != list(FEATURES):
        raise ModelError(
            f"{path}: trained on features {', '.join(model.card.features)}, but this pgx builds {', '.join(FEATURES)}",
            hint="retrain with benchmarks/warfarin_dose.py --write-model",
        )
    absent = [key for key in CARD_EXTRA if key not in model.card.extra]
    if absent:
        raise ModelError(
            f"{path}: model card lacks {', '.join(absent)} under 'extra'",
            hint="retrain with benchmarks/warfarin_dose.py --write-model",
        )
    return model


def load_warfarin_model(path: str | Path | None = None) -> LoadedModel:
    """The bundled model (``pgx/ml/artifacts/warfarin_dose.skops``) or the one at ``path``, checked and cached."""
    return _load(str(Path(path) if path is not None else bundled_model(MODEL_NAME)))


VKORC1_BY_PHENOTYPE = {"-1639 AA": "A/A", "-1639 AG": "A/G", "-1639 GG": "G/G"}
_VKORC1_WORDS = {"A/A": "-1639 AA", "A/G": "-1639 AG", "G/G": "-1639 GG"}
_MODEL_DRUGS = DRUG_CLASSES["amiodarone"] | DRUG_CLASSES["enzyme_inducer"]
_NOT_MODELLED: tuple[DrugClass, ...] = ("azole", "sulfonamide", "macrolide")


def _not_predicted(reason: str, model: LoadedModel | None, **extra: Any) -> DosePrediction:
    return DosePrediction(
        drug=DRUG, status="not_predicted", reason=reason, model=None if model is None else model.card.ref(), **extra
    )


def missing_inputs(patient: PatientCovariates | None, cov: Covariates) -> list[str]:
    """Covariates the model will see as unknown, named as in a ``--patient`` file."""
    out = [
        name
        for name, value in (
            ("age", cov.age_decade),
            ("height_cm", cov.height_cm),
            ("weight_kg", cov.weight_kg),
            ("sex", cov.sex),
        )
        if value is None
    ]
    if patient is None or patient.race == "unknown":
        out.append("race")
    if cov.amiodarone is None:
        out.append("medications")
    out += [name for name, value in (("smoker", cov.smoker), ("target_inr", cov.target_inr)) if value is None]
    return out


def predict_dose(
    state: PatientState, covariates: PatientCovariates | None, model: LoadedModel | None = None
) -> list[DosePrediction]:
    """One warfarin dose prediction per CYP2C9 x VKORC1 genotype the calls leave possible.

    Not predicted (with the reason) when CYP2C9 or VKORC1 was not called (a normal genotype is
    never assumed), when age, height and weight are all unknown, or for a patient under 18
    (the cohort is adult). The genotype is used, not the phenoconverted phenotype: the model
    takes amiodarone and enzyme inducers as covariates itself; other interacting drugs are
    named in a note. Missing covariates are NaN in the row, filled by the pipeline's imputer from
    the patient's other covariates (:func:`imputer`), and listed in ``missing_inputs``.
    """
    model = model or load_warfarin_model()
    c9, vk = state.result("CYP2C9"), state.result("VKORC1")
    uncalled = [r for r in (c9, vk) if not r.called or not r.options]
    if uncalled:
        why = "; ".join(f"{r.gene} not called ({r.reason or 'no result'})" for r in uncalled)
        return [_not_predicted(f"{why}: the dose model needs the genotype and never assumes a normal one", model)]
    cov = Covariates.from_patient(covariates, state.medications)
    missing = missing_inputs(covariates, cov)
    if cov.age_decade is None and cov.height_cm is None and cov.weight_kg is None:
        return [
            _not_predicted(
                "age, height and weight are all unknown: give --patient with age, height_cm and weight_kg",
                model,
                missing_inputs=missing,
            )
        ]
    if covariates is not None and covariates.age is not None and covariates.age < ADULT_AGE:
        return [
            _not_predicted(
                f"age {covariates.age:g}: the IWPC cohort is adult; pgx has no pediatric warfarin model", model
            )
        ]
    meds = sorted({*(covariates.medications if covariates else []), *state.medications})
    return [_scenario(model, cov, missing, o9, ov, meds) for o9 in c9.options for ov in vk.options]


def _scenario(
    model: LoadedModel, cov: Covariates, missing: list[str], o9: GeneOption, ov: GeneOption, meds: list[str]
) -> DosePrediction:
    label = {"CYP2C9": o9.diplotype or "?", "VKORC1": ov.phenotype or ov.diplotype or "?"}
    vkorc1 = VKORC1_BY_PHENOTYPE.get(ov.phenotype or "")
    genotype = cyp2c9_genotype(o9.diplotype or "")
    if vkorc1 is None or genotype is None:
        gene, value = ("VKORC1", label["VKORC1"]) if vkorc1 is None else ("CYP2C9", label["CYP2C9"])
        return _not_predicted(f"{gene} result {value!r} is not one the dose model knows", model, scenario=label)
    missing = list(missing)
    notes = []
    if genotype.other_reduced is None:
        missing.append("CYP2C9 allele function")
        notes.append(
            f"CYP2C9 {genotype.diplotype} has an allele of uncertain or unknown function: the model cannot "
            "use it and counts it as the cohort would make likely (almost always normal function); if it "
            "lowers CYP2C9 activity, the dose needed is lower than predicted."
        )
    x = features(cov, genotype, vkorc1)
    extra = model.card.extra
    root = float(np.sqrt(predict_weekly(model.estimator, x[None, :])[0]))
    complete = None not in (cov.age_decade, cov.height_cm, cov.weight_kg)
    interval = Interval(**extra["interval"])
    lo, hi = interval.bounds(root, complete)
    weekly = root * root
    notes += _notes(missing, complete, o9, meds, extra)
    reference = from_rows([extra["reference"]])[0]
    effects = perturbation_effects(lambda rows: predict_weekly(model.estimator, rows), x, reference, GROUPS)
    contributions = [
        _contribution(group, effect, cov, genotype, vkorc1, extra)
        for group, effect in top_effects(effects, n=5, min_abs=0.05)
    ]
    return DosePrediction(
        drug=DRUG,
        dose_mg_per_week=round(weekly, 1),
        interval=(round(lo, 1), round(hi, 1)),
        interval_level=interval.level,
        daily_equivalent_mg=round(weekly / 7, 1),
        model=model.card.ref(),
        contributions=contributions,
        missing_inputs=missing,
        notes=notes,
        scenario=label,
    )


def _notes(missing: list[str], complete: bool, o9: GeneOption, meds: list[str], extra: Mapping[str, Any]) -> list[str]:
    notes = []
    if missing:
        held_out = extra.get("coverage", {})
        width = (
            "the interval is the wider one measured for cohort patients missing age, height or weight "
            f"(held-out coverage {100 * held_out.get('incomplete', float('nan')):.0f} %)"
            if not complete
            else "the interval does not widen for them and may be too narrow for this patient"
        )
        notes.append(
            f"Predicted without {', '.join(missing)}: the model estimates each from this patient's other "
            "covariates as they go together in the IWPC cohort, not from a typical patient, and this "
            f"prediction is less certain than one with them; {width}."
        )
    if o9.conversion is not None:
        perpetrators = set(o9.conversion.perpetrators)
        covered = (
            ""
            if perpetrators <= _MODEL_DRUGS
            else (
                f" {', '.join(sorted(perpetrators - _MODEL_DRUGS))} is not in the model: expect a lower dose requirement "
                "than predicted and check the INR early."
            )
        )
        notes.append(
            f"CYP2C9 phenotype converted by {', '.join(sorted(perpetrators))}; the model uses the genotype "
            f"{o9.diplotype} and amiodarone/enzyme inducers as covariates.{covered}"
        )
    other = [m for m in meds if any(m in DRUG_CLASSES[c] for c in _NOT_MODELLED)]
    if other:
        notes.append(
            f"{', '.join(other)} interacts with warfarin but is too rare in the IWPC cohort to be in the "
            "model; adjust and monitor the INR."
        )
    for given, meant in near_misses(meds).items():
        notes.append(
            f"Medication {given!r} is not one the model knows; did you mean {meant}? It was counted as not taken."
        )
    notes.append(
        "Contributions compare this patient with a reference patient (VKORC1 -1639 GG, CYP2C9 *1/*1, "
        "cohort median age, height and weight, White, male, non-smoker, target INR 2.5, no amiodarone or "
        "enzyme inducer); they need not add up."
    )
    notes.append("Not in the model: CYP4F2*3 and rs12777823 (see the CPIC algorithm's adjustments).")
    return notes


def _contribution(
    group: str, effect: float, cov: Covariates, genotype: Cyp2c9Genotype, vkorc1: str, extra: Mapping[str, Any]
) -> Contribution:
    ref = extra["reference"]
    value, against = _words(group, cov, genotype, vkorc1, ref)
    direction = "higher" if effect > 0 else "lower"
    return Contribution(
        feature=group,
        value=value,
        effect=round(effect, 2),
        unit="mg/week",
        text=f"{value}: {abs(effect):.1f} mg/week {direction} than {against}",
    )


def _words(
    group: str, cov: Covariates, genotype: Cyp2c9Genotype, vkorc1: str, ref: Sequence[float | None]
) -> tuple[str, str]:
    """This patient's value of a feature group and the reference's, in words."""

    def taking(flag: bool | None, name: str) -> str:
        return f"{name} not known" if flag is None else (f"taking {name}" if flag else f"not taking {name}")

    def known(v: float | None, fmt: str) -> str:
        return "not given" if v is None else fmt.format(v)

    races = {
        "white": "White",
        "asian": "Asian",
        "black": "Black or African American",
        "missing_or_mixed": "race missing or mixed",
    }
    table: dict[str, tuple[str, str]] = {
        "VKORC1 rs9923231": (f"VKORC1 {_VKORC1_WORDS[vkorc1]}", "for -1639 GG"),
        "CYP2C9 genotype": (f"CYP2C9 {genotype.diplotype}", "for *1/*1"),
        "age": (
            f"age {known(cov.age_decade, '{0}0-{0}9')}".replace("90-99", "90+"),
            f"at {int(ref[0] or 0)}0-{int(ref[0] or 0)}9 years (cohort median)",
        ),
        "height": (f"height {known(cov.height_cm, '{:.0f} cm')}", f"at {ref[1]:.0f} cm (cohort median)"),
        "weight": (f"weight {known(cov.weight_kg, '{:.0f} kg')}", f"at {ref[2]:.0f} kg (cohort median)"),
        "sex": ("sex not given" if cov.sex is None else cov.sex, "for a male patient"),
        "race": (races[cov.race], "for a White patient"),
        "amiodarone": (taking(cov.amiodarone, "amiodarone"), "without amiodarone"),
        "enzyme inducer": (taking(cov.enzyme_inducer, "an enzyme inducer"), "without one"),
        "smoking": (
            "smoking not known" if cov.smoker is None else ("smoker" if cov.smoker else "non-smoker"),
            "for a non-smoker",
        ),
        "target INR": (f"target INR {known(cov.target_inr, '{:g}')}", "at target INR 2.5"),
    }
    return table[group]
