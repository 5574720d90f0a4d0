"""The published IWPC warfarin dosing formulas (NEJM 2009;360:753-64, PMID 19228618), coefficient for coefficient.

They are the baseline pgx's model has to beat (:mod:`pgx.ml.warfarin_eval` compares the two),
and the benchmark re-checks them against the paper's own validation figures. Both predict the
square root of the weekly dose from the same :class:`~pgx.ml.warfarin_features.Covariates`
the model uses; the pharmacogenetic one adds VKORC1 and CYP2C9.
"""

from __future__ import annotations

from collections.abc import Mapping

from pgx.ml.warfarin_features import Covariates, Cyp2c9Genotype

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
