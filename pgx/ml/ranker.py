"""Therapy re-ranker: among an indication's drugs, which is most likely to work for this patient.

The rules come first and are never overruled: a drug the rules flag contraindicated/avoid
is placed below every permitted drug whatever its predicted probability (the ranking is
sorted on *permitted* before probability), and a dose-change or caution flag travels with
the drug's place in the list. The model only orders drugs within those tiers.

The estimator is a gradient-boosted tree classifier on :data:`pgx.ml.features.FEATURES`
(missing values handled natively, no imputation to a "typical" patient). Training reports
grouped cross-validation by patient (a patient's rows never straddle folds): ROC AUC,
Brier score next to the base-rate Brier score, and a reliability diagram.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from pgx.errors import ModelError, UsageError
from pgx.flags.decide import patient_flags
from pgx.flags.models import DrugFlag
from pgx.knowledge.loader import KnowledgeBase
from pgx.ml.artifact import LoadedModel, ModelCard, bundled_model, from_rows, load_model, save_model, to_rows
from pgx.ml.cohort import OutcomeRow
from pgx.ml.explain import background_effects, top_effects
from pgx.ml.features import FEATURES, GROUPS, describe_group, drug_context, feature_row
from pgx.ml.indications import indication_drugs
from pgx.ml.results import Contribution, RankedTherapy, TherapyRanking
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import PatientState
from pgx.rules.loader import RuleBase

KIND = "therapy_ranker"
DEFAULT_NAME = "therapy_ranker"
PRIOR_LABEL = "evidence-based prior, not trained on outcomes"
NOT_PERMITTED = frozenset({"contraindicated"})
BACKGROUND_ROWS = 64
MIN_EFFECT = 0.005  # half a probability point: smaller effects are not worth a line
TOP_CONTRIBUTIONS = 4


def make_estimator(seed: int, x: np.ndarray) -> Pipeline:
    """Gradient-boosted trees on the feature columns that carry any value in ``x``.

    A covariate no training row has (an outcomes table without ages) is dropped by column
    rather than imputed: the model then simply does not use it, and says so in its card.
    """
    used = [i for i in range(x.shape[1]) if not np.isnan(x[:, i]).all()]
    return Pipeline(
        [
            ("features", ColumnTransformer([("used", "passthrough", used)], remainder="drop")),
            (
                "model",
                HistGradientBoostingClassifier(
                    max_iter=250,
                    learning_rate=0.05,
                    max_leaf_nodes=15,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    random_state=seed,
                ),
            ),
        ]
    )


def unused_features(x: np.ndarray) -> list[str]:
    return [FEATURES[i] for i in range(x.shape[1]) if np.isnan(x[:, i]).all()]


def predict_proba(estimator: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(estimator.predict_proba(np.asarray(x, dtype=float))[:, 1])


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray


def build_dataset(
    kb: KnowledgeBase, rb: RuleBase, rows: Sequence[OutcomeRow], states: Sequence[PatientState]
) -> Dataset:
    """Features exactly as the report computes them: phenoconversion and the rules' flag included."""
    x = np.empty((len(rows), len(FEATURES)))
    for i, (row, state) in enumerate(zip(rows, states, strict=True)):
        converted, flags = patient_flags(kb, rb, state, [row.drug])
        flag = next((f for f in flags if f.drug == row.drug), None)
        x[i] = feature_row(
            drug_context(kb, rb, row.drug), converted, flag.level if flag else "no_guideline", row.covariates
        )
    y = np.array([r.responded for r in rows], dtype=int)
    return Dataset(x=x, y=y, groups=np.array([r.patient_id for r in rows]))


def cross_validate(data: Dataset, folds: int, seed: int) -> dict[str, Any]:
    """Metrics of out-of-fold probabilities, folds grouped by patient and stratified by outcome."""
    if len(set(data.y.tolist())) < 2:
        raise UsageError("every outcome is the same: nothing to learn (need both responders and non-responders)")
    n_groups = len(set(data.groups.tolist()))
    if n_groups < folds:
        raise UsageError(
            f"{n_groups} patients cannot fill {folds} cross-validation folds", hint="use fewer folds", field="folds"
        )
    oof = np.zeros(len(data.y))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in cv.split(data.x, data.y, data.groups):
        est = make_estimator(seed, data.x[train]).fit(data.x[train], data.y[train])
        oof[test] = predict_proba(est, data.x[test])
    return metrics(data.y, oof) | {"folds": folds, "grouped_by": "patient_id"}


def metrics(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    base = float(y.mean())
    frac, mean_pred = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    return {
        "n": int(len(y)),
        "responders": int(y.sum()),
        "base_rate": base,
        "roc_auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": base * (1 - base),
        "reliability": {
            "predicted": [round(float(v), 4) for v in mean_pred],
            "observed": [round(float(v), 4) for v in frac],
        },
    }


def reliability_png(m: dict[str, Any], path: str | Path, title: str) -> None:
    import matplotlib  # lazy: only training draws, and matplotlib is slow to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(m["reliability"]["predicted"], m["reliability"]["observed"], marker="o", label="model (out of fold)")
    ax.set_xlabel("predicted probability of response")
    ax.set_ylabel("observed share responding")
    ax.set_title(
        f"{title}\nAUC {m['roc_auc']:.3f}, Brier {m['brier']:.3f} (base rate {m['brier_base_rate']:.3f})", fontsize=9
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(str(path), format="png")
    plt.close(fig)


def train(
    data: Dataset,
    out: str | Path,
    *,
    name: str,
    seed: int,
    folds: int,
    trained_on_outcomes: bool,
    data_description: str,
    label: str | None = None,
    version: str | None = None,
    known_limits: list[str] | None = None,
    holdout: Dataset | None = None,
) -> ModelCard:
    """Cross-validate, fit on everything, save NAME.skops + card + reliability diagram in ``out``.

    ``holdout`` (data never seen in training) is scored by the final model and recorded in the card.
    Nothing is written when cross-validation refuses the data.
    """
    cv = cross_validate(data, folds, seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reliability_png(cv, out / f"{name}.reliability.png", f"{name}: grouped {folds}-fold CV")
    est = make_estimator(seed, data.x).fit(data.x, data.y)
    rng = np.random.default_rng(seed)
    background = data.x[rng.choice(len(data.x), size=min(BACKGROUND_ROWS, len(data.x)), replace=False)]
    check = data.x[rng.choice(len(data.x), size=min(12, len(data.x)), replace=False)]
    limits = list(
        known_limits
        or [
            "Trained on this institution's outcomes only; it inherits their case mix, outcome definitions and biases.",
            "Probabilities order drugs for one patient; they are not a guarantee of response.",
            "Never overrides a rule: contraindicated/avoid drugs rank below every permitted drug.",
        ]
    )
    recorded: dict[str, Any] = {"cross_validation": cv}
    if holdout is not None:
        recorded["holdout"] = metrics(holdout.y, predict_proba(est, holdout.x))
    unused = unused_features(data.x)
    if unused:
        limits.append(f"Does not use {', '.join(unused)}: no training row had a value.")
    return save_model(
        est,
        out / f"{name}.skops",
        predict=predict_proba,
        check_inputs=check,
        name=name,
        kind=KIND,
        version=version or date.today().isoformat(),
        estimator=repr(est),
        trained_on_outcomes=trained_on_outcomes,
        label=label or (f"trained on outcomes ({data_description})" if trained_on_outcomes else PRIOR_LABEL),
        data=data_description,
        intended_use="Order the drugs the rules still permit for an indication by predicted probability of "
        "response, for a pharmacist's review next to the guideline flags.",
        known_limits=limits,
        metrics=recorded,
        features=FEATURES,
        extra={"background": to_rows(background), "seed": seed},
    )


def evaluate(model: LoadedModel, data: Dataset) -> dict[str, Any]:
    return metrics(data.y, predict_proba(model.estimator, data.x))


@functools.lru_cache(maxsize=4)
def load_ranker(path: str | None = None) -> LoadedModel:
    model = load_model(path or bundled_model(DEFAULT_NAME), kind=KIND, predict=predict_proba)
    if model.card.features != FEATURES:
        raise ModelError(
            f"{model.path}: built for other features than this pgx computes",
            hint="retrain it with this version: pgx ml train",
        )
    return model


def _words(value: str, effect: float) -> str:
    verb = "raises" if effect > 0 else "lowers"
    return f"{value}: {verb} the predicted chance of response by {abs(effect) * 100:.0f} points"


def rank_therapies(
    kb: KnowledgeBase,
    rb: RuleBase,
    indication: str,
    converted: PatientState,
    flags: Sequence[DrugFlag],
    covariates: PatientCovariates | None = None,
    model: LoadedModel | None = None,
) -> TherapyRanking:
    """Order an indication's drugs: permitted first, each tier by predicted probability of response.

    ``converted`` and ``flags`` are the report's own (after phenoconversion); a drug of the
    indication the report did not flag has no rule and counts as permitted ("no guideline").
    """
    model = model or load_ranker()
    drugs = indication_drugs(kb).get(indication)
    if not drugs:
        raise UsageError(f"unknown indication {indication!r}")
    by_drug = {f.drug: f for f in flags}
    background = from_rows(model.card.extra["background"])
    therapies: list[RankedTherapy] = []
    for drug in drugs:
        flag = by_drug.get(drug)
        level = flag.level if flag else "no_guideline"
        action = flag.action if flag else None
        ctx = drug_context(kb, rb, drug)
        x = feature_row(ctx, converted, level, covariates)
        p, effects = background_effects(lambda m: predict_proba(model.estimator, m), x, background, GROUPS)
        contributions = []
        described = {g: describe_group(g, ctx, converted, level, action, covariates) for g in effects}
        shown = {g: e for g, e in effects.items() if described[g] is not None}
        for group, effect in top_effects(shown, TOP_CONTRIBUTIONS, MIN_EFFECT):
            value = described[group] or group
            contributions.append(
                Contribution(
                    feature=group,
                    value=value,
                    effect=round(effect, 4),
                    unit="probability points",
                    text=_words(value, effect),
                )
            )
        permitted = level not in NOT_PERMITTED
        notes = []
        if not permitted:
            notes.append(
                f"Not recommended: the rules say {(action or level).replace('_', ' ')}; placed below every "
                "permitted drug whatever its predicted response."
            )
        elif level == "change":
            notes.append(f"Permitted with a dose change: {(action or 'change').replace('_', ' ')} (see its flag).")
        elif level == "caution":
            notes.append(f"Permitted with caution: {(action or 'caution').replace('_', ' ')} (see its flag).")
        elif level == "cannot_assess":
            why = "; ".join(flag.not_assessed) if flag and flag.not_assessed else "a gene it depends on was not called"
            notes.append(f"The rules could not assess it: {why}.")
        if not contributions:
            notes.append("No feature moves this prediction from the training cohort's average.")
        therapies.append(
            RankedTherapy(
                drug=drug,
                rank=0,
                permitted=permitted,
                flag_level=level,
                flag_action=action,
                probability=round(p, 4),
                contributions=contributions,
                notes=notes,
            )
        )
    therapies.sort(key=lambda t: (not t.permitted, -(t.probability or 0.0), t.drug))
    ranked = [t.model_copy(update={"rank": i}) for i, t in enumerate(therapies, start=1)]
    return TherapyRanking(indication=indication, model=model.card.ref(), label=model.card.label, therapies=ranked)


def dump_metrics(m: dict[str, Any]) -> str:
    return json.dumps(m, indent=2, sort_keys=True) + "\n"
