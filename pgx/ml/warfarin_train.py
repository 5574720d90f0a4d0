"""pgx's warfarin model: the candidate families, model selection by CV, the fit, and what its card records.

:func:`train` selects among :func:`candidates` by 5-fold CV on the training part of the split
of :mod:`pgx.ml.warfarin_eval` (never on the held-out patients), refits the choice on that whole
part, and measures its split-conformal prediction interval from the out-of-fold residuals.
The result is a scikit-learn pipeline (imputer, model) predicting the square root of the
weekly dose, as IWPC did; ``benchmarks/warfarin_dose.py --write-model`` saves it with
:func:`reference_row` and :func:`check_rows` in its card, and :mod:`pgx.ml.warfarin` predicts
with it. scikit-learn is imported inside the functions that need it, as it always was here, so
that importing this module stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from pgx.ml.iwpc import IwpcRecord
from pgx.ml.warfarin import Interval
from pgx.ml.warfarin_eval import (
    SEED,
    Metrics,
    cv_folds,
    design,
    has_any_clinical_input,
    has_clinical_inputs,
    metrics,
)
from pgx.ml.warfarin_features import FEATURES, Covariates, cyp2c9_genotype, features

INTERVAL_LEVEL = 0.8

# -- the candidates ------------------------------------------------------------------------------


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


def _out_of_fold(
    records: Sequence[IwpcRecord],
    x: np.ndarray,
    root: np.ndarray,
    models: dict[str, Any],
    seed: int,
    missing: MissingStrategy,
) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[np.ndarray, RootPredictor]]]]:
    """Each candidate's out-of-fold sqrt dose, and its fold fits; the imputer is fitted on each training fold only."""
    from sklearn.base import clone

    roots = {name: np.empty(len(root)) for name in models}
    predictors: dict[str, list[tuple[np.ndarray, RootPredictor]]] = {name: [] for name in models}
    for fit_idx, val_idx in cv_folds(records, seed):
        fill = None if missing == "indicator" else clone(imputer(seed)).fit(x[fit_idx])
        x_fit = x[fit_idx] if fill is None else fill.transform(x[fit_idx])
        for name, est in models.items():
            predictor = _fold_predictor(fill, clone(est).fit(x_fit, root[fit_idx]))
            roots[name][val_idx] = predictor(x[val_idx])
            predictors[name].append((val_idx, predictor))
    return roots, predictors


def _interval(records: Sequence[IwpcRecord], residual: np.ndarray, comparable: np.ndarray) -> Interval:
    """Conformal half-widths for comparable patients and for those missing some (not all) of age, height, weight."""
    some = np.array([not has_clinical_inputs(r) and has_any_clinical_input(r) for r in records])
    return Interval(
        level=INTERVAL_LEVEL,
        complete=conformal_quantile(residual[comparable], INTERVAL_LEVEL),
        incomplete=conformal_quantile(residual[some], INTERVAL_LEVEL)
        if some.any()
        else conformal_quantile(residual, INTERVAL_LEVEL),
    )


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
    roots, predictors = _out_of_fold(records, x, root, models, seed, missing)
    best_hgb = min((n for n in roots if n.startswith("hgb_")), key=lambda n: _mae(roots[n], dose, comparable))
    average = AVERAGE.format(best_hgb)
    roots[average] = (roots["ridge"] + roots[best_hgb]) / 2
    predictors[average] = [
        (v, _average(a, b)) for (v, a), (_, b) in zip(predictors["ridge"], predictors[best_hgb], strict=True)
    ]
    models[average] = VotingRegressor([("ridge", models["ridge"]), ("hgb", models[best_hgb])])
    cv = {name: metrics(np.square(r[comparable]), dose[comparable]) for name, r in roots.items()}
    chosen = min(cv, key=lambda n: (cv[n].mae, n))
    interval = _interval(records, roots[chosen] - root, comparable)
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
