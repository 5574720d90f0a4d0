"""Warfarin maintenance dose for a report: load pgx's model and predict a dose, its interval and its reasons.

:func:`predict_dose` turns a report's genotype calls and a ``--patient`` file into one
:class:`~pgx.ml.results.DosePrediction` per possible genotype, with the model's
split-conformal prediction interval (:class:`Interval`) and each feature group's contribution
in words. The model is a scikit-learn pipeline on the features of
:mod:`pgx.ml.warfarin_features`, predicting the square root of the weekly dose, as IWPC did;
it is selected and fitted by :mod:`pgx.ml.warfarin_train` and measured against the IWPC
formulas (:mod:`pgx.ml.iwpc_formula`) by the protocol of :mod:`pgx.ml.warfarin_eval`, none of
which a report imports.

The model is a starting-dose estimate next to the CPIC algorithm; it never replaces INR monitoring.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pgx.errors import ModelError
from pgx.ml.artifact import LoadedModel, bundled_model, from_rows, load_model
from pgx.ml.explain import perturbation_effects, top_effects
from pgx.ml.results import Contribution, DosePrediction
from pgx.ml.warfarin_features import (
    DRUG_CLASSES,
    FEATURES,
    GROUPS,
    Covariates,
    Cyp2c9Genotype,
    DrugClass,
    cyp2c9_genotype,
    features,
    near_misses,
)
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import GeneOption, PatientState

MODEL_NAME = "warfarin_dose"
MODEL_KIND = "warfarin_dose"
DRUG = "warfarin"
ADULT_AGE = 18

# -- the model ------------------------------------------------------------------------------------


def predict_weekly(estimator: Any, x: np.ndarray) -> np.ndarray:
    """Weekly dose (mg) from a fitted pipeline, which predicts sqrt(weekly dose)."""
    root = np.asarray(estimator.predict(np.asarray(x, dtype=float)), dtype=float)
    return np.square(np.clip(root, 0.0, None))


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
                f" {', '.join(sorted(perpetrators - _MODEL_DRUGS))} is not in the model: "
                "expect a lower dose requirement than predicted and check the INR early."
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
