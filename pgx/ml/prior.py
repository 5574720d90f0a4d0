"""The re-ranker shipped in the package: trained on the simulated cohort of :mod:`pgx.ml.cohort`.

``pgx ml build-prior`` (or :func:`build_prior`) regenerates ``pgx/ml/artifacts/therapy_ranker.*``
deterministically from the bundled knowledge and rules; a test checks that the committed
artifact still predicts what a rebuild predicts, so a knowledge or rules change that alters
the features cannot ship with a stale prior.
"""

from __future__ import annotations

from pathlib import Path

from pgx.knowledge.loader import KnowledgeBase
from pgx.ml.artifact import ModelCard, bundled_model
from pgx.ml.cohort import simulate_outcomes, state_from_phenotypes
from pgx.ml.ranker import DEFAULT_NAME, PRIOR_LABEL, Dataset, build_dataset, train
from pgx.rules.loader import RuleBase

SEED = 6
TRAIN_PATIENTS = 20_000
HOLDOUT_PATIENTS = 5_000
VERSION = "prior-1"


def simulated_dataset(kb: KnowledgeBase, rb: RuleBase, n: int, seed: int) -> Dataset:
    rows = simulate_outcomes(kb, rb, n, seed)
    states = [state_from_phenotypes(kb, r.patient_id, r.phenotypes, r.covariates.medications) for r in rows]
    return build_dataset(kb, rb, rows, states)


def build_prior(kb: KnowledgeBase, rb: RuleBase, out: Path | None = None) -> ModelCard:
    out = out or bundled_model(DEFAULT_NAME).parent
    data = simulated_dataset(kb, rb, TRAIN_PATIENTS, SEED)
    holdout = simulated_dataset(kb, rb, HOLDOUT_PATIENTS, SEED + 1)
    description = (
        f"SIMULATED cohort, not patients: {TRAIN_PATIENTS} simulated patients (seed {SEED}) from the "
        "generative model documented in pgx/ml/cohort.py (pathway function from activity scores and "
        "phenotypes after phenoconversion, effect sizes scaled by CPIC/PharmGKB evidence level), "
        f"knowledge {kb.version}, rules {rb.version}; hold-out: {HOLDOUT_PATIENTS} more (seed {SEED + 1})."
    )
    return train(
        data,
        out,
        name=DEFAULT_NAME,
        seed=SEED,
        folds=5,
        trained_on_outcomes=False,
        data_description=description,
        label=PRIOR_LABEL,
        version=VERSION,
        holdout=holdout,
        known_limits=[
            "Not trained on any patient outcome: it restates guideline pharmacology as probabilities. "
            "Its probabilities are a prior, not an observed response rate.",
            "Drugs without a pathway gene that pgx calls all get the same probability; their order is "
            "alphabetical, not clinical.",
            "Drug-specific efficacy differences (e.g. prasugrel vs ticagrelor) are not modelled.",
            "Replace it with a model trained on your own outcomes (pgx ml train) before relying on the "
            "probabilities themselves.",
        ],
    )
