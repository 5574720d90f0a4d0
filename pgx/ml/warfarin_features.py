"""What a warfarin dose model sees of a patient, and the one feature builder that training and prediction share.

:func:`features` turns *any* patient (an IWPC record, or a report's genotype calls plus a
``--patient`` file) into the same numeric row, so a model never sees a column built one way
in training and another way at the bedside. :class:`Covariates` is the patient description
it takes, :func:`cyp2c9_genotype` the CYP2C9 diplotype reduced to what dose models use, and
:data:`DRUG_CLASSES` maps medication names to the drug classes the IWPC table records.

Missing values stay missing: a field the table leaves ``NA`` (or the user leaves out) becomes
NaN in the row, and the model pipeline handles it explicitly, by estimating it from the
patient's other covariates (:func:`pgx.ml.warfarin_train.imputer` says why not a missing
indicator). Nothing is silently read as "normal", "not taking it" or "typical", and a
prediction lists what it had to estimate.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pgx.knowledge.loader import load_knowledge
from pgx.patient.covariates import PatientCovariates

IwpcRace = Literal["white", "asian", "black", "missing_or_mixed"]
Sex = Literal["female", "male"]
DrugClass = Literal["amiodarone", "enzyme_inducer", "statin", "azole", "sulfonamide", "macrolide"]

# -- medication names -> the drug classes the IWPC table records --------------------------------

#: Generic names (lower case) a user may list under ``medications`` and the IWPC class each falls in.
#: The enzyme-inducer class is IWPC's own (carbamazepine, phenytoin, rifampin), plus fosphenytoin,
#: phenytoin's prodrug, and rifampicin, rifampin's other name.
DRUG_CLASSES: Mapping[DrugClass, frozenset[str]] = {
    "amiodarone": frozenset({"amiodarone"}),
    "enzyme_inducer": frozenset({"carbamazepine", "phenytoin", "fosphenytoin", "rifampin", "rifampicin"}),
    "statin": frozenset(
        {
            "atorvastatin",
            "simvastatin",
            "fluvastatin",
            "lovastatin",
            "pravastatin",
            "rosuvastatin",
            "cerivastatin",
            "pitavastatin",
        }
    ),
    "azole": frozenset(
        {"fluconazole", "voriconazole", "itraconazole", "ketoconazole", "posaconazole", "miconazole", "isavuconazole"}
    ),
    "sulfonamide": frozenset(
        {
            "sulfamethoxazole",
            "trimethoprim-sulfamethoxazole",
            "co-trimoxazole",
            "cotrimoxazole",
            "sulfadiazine",
            "sulfisoxazole",
            "sulfasalazine",
        }
    ),
    "macrolide": frozenset({"erythromycin", "clarithromycin", "azithromycin", "roxithromycin"}),
}
KNOWN_MEDICATIONS = frozenset().union(*DRUG_CLASSES.values())


def near_misses(medications: Iterable[str]) -> dict[str, str]:
    """Listed names that are not ones we know but look like one (``amiodaron`` -> ``amiodarone``).

    A misspelt amiodarone would otherwise count as "not taking amiodarone" without a word.
    """
    out = {}
    for name in medications:
        if name not in KNOWN_MEDICATIONS:
            close = difflib.get_close_matches(name, sorted(KNOWN_MEDICATIONS), n=1, cutoff=0.8)
            if close:
                out[name] = close[0]
    return out


# -- the patient description the feature builder takes ------------------------------------------


@dataclass(frozen=True)
class Covariates:
    """Everything a dose model uses besides genotype; ``None`` always means *not known*.

    ``race`` uses the IWPC categories; people whose race was not given are in IWPC's
    "missing or mixed" category, as in the published formulas. A drug class is ``None`` when
    nobody said which medications the patient takes.
    """

    age_decade: int | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    sex: Sex | None = None
    race: IwpcRace = "missing_or_mixed"
    amiodarone: bool | None = None
    enzyme_inducer: bool | None = None
    statin: bool | None = None
    azole: bool | None = None
    sulfonamide: bool | None = None
    macrolide: bool | None = None
    smoker: bool | None = None
    target_inr: float | None = None

    @classmethod
    def from_patient(cls, patient: PatientCovariates | None, medications: Iterable[str] = ()) -> Covariates:
        """From a ``--patient`` file and/or the report's ``--meds`` list.

        The medication list is taken as complete when a patient file was given or ``--meds``
        named something; with neither, every drug class is unknown (not "none").
        """
        meds = {m.strip().lower() for m in medications if m.strip()}
        if patient is not None:
            meds |= set(patient.medications)
        known = patient is not None or bool(meds)
        taking = {c: (bool(meds & names) if known else None) for c, names in DRUG_CLASSES.items()}
        race: IwpcRace = "missing_or_mixed"
        if patient is not None and patient.race in ("white", "asian", "black"):
            race = patient.race  # narrowed to an IWPC race by the membership test
        return cls(
            age_decade=None if patient is None else patient.age_decade,
            height_cm=None if patient is None else patient.height_cm,
            weight_kg=None if patient is None else patient.weight_kg,
            sex=None if patient is None else patient.sex,
            race=race,
            smoker=None if patient is None else patient.smoker,
            target_inr=None if patient is None else patient.target_inr,
            **taking,
        )


# -- genotypes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cyp2c9Genotype:
    """A CYP2C9 diplotype reduced to what dose models use.

    ``other_reduced`` counts decreased- and no-function alleles other than *2 and *3 (*5, *6,
    *8, *11, ...; function from the knowledge base); it is ``None`` when an allele's function
    is uncertain or unknown, since such an allele may or may not lower the dose.
    ``activity_half`` / ``activity_zero`` count alleles of CPIC activity value 0.5 (like *2)
    and 0 (like *3), and are what the IWPC formula's categories are read from.
    """

    diplotype: str
    star2: int
    star3: int
    other_reduced: int | None
    activity_half: int | None
    activity_zero: int | None

    @property
    def iwpc_category(self) -> str | None:
        """The IWPC formula's genotype class, by nearest allele activity (``*1/*11`` -> ``*1/*2``); None if unknown."""
        if self.activity_half is None or self.activity_zero is None:
            return None
        return {(0, 0): "*1/*1", (1, 0): "*1/*2", (0, 1): "*1/*3", (2, 0): "*2/*2", (1, 1): "*2/*3", (0, 2): "*3/*3"}[
            (self.activity_half, self.activity_zero)
        ]


DIPLOTYPE = re.compile(r"^(\*\d+[A-Z]?)/(\*\d+[A-Z]?)$")


@functools.lru_cache(maxsize=1)
def _cyp2c9_alleles() -> dict[str, tuple[str | None, float | None]]:
    gene = load_knowledge().gene("CYP2C9")
    return {a.name: (a.function, a.activity_value) for a in gene.named_alleles}


def cyp2c9_genotype(diplotype: str) -> Cyp2c9Genotype | None:
    """Parse ``*1/*3``; ``None`` for anything that is not a pair of CYP2C9 star alleles."""
    m = DIPLOTYPE.match(diplotype.strip())
    if m is None:
        return None
    known = _cyp2c9_alleles()
    alleles = m.groups()
    if any(a not in known for a in alleles):
        return None
    star2 = sum(a == "*2" for a in alleles)
    star3 = sum(a == "*3" for a in alleles)
    functions = [(known[a][0] or "").lower() for a in alleles if a not in ("*2", "*3")]
    certain = all(f in ("normal function", "decreased function", "no function") for f in functions)
    other = sum(f in ("decreased function", "no function") for f in functions) if certain else None
    values = [known[a][1] for a in alleles]
    half = sum(v == 0.5 for v in values) if all(v is not None for v in values) else None
    zero = sum(v == 0.0 for v in values) if all(v is not None for v in values) else None
    return Cyp2c9Genotype(
        diplotype=f"{alleles[0]}/{alleles[1]}",
        star2=star2,
        star3=star3,
        other_reduced=other,
        activity_half=half,
        activity_zero=zero,
    )


VKORC1_GENOTYPES = ("G/G", "A/G", "A/A")


def vkorc1_a_count(genotype: str | None) -> int | None:
    """rs9923231 (-1639 G>A) A alleles: ``G/G`` 0, ``A/G`` 1, ``A/A`` 2; None when unknown."""
    return None if genotype is None else VKORC1_GENOTYPES.index(genotype)


# -- the feature row --------------------------------------------------------------------------

#: Column names of :func:`features`, in order. Units: IWPC age decade (1 = 10-19 years ... 9 = 90+),
#: cm, kg; 0/1 indicators (``male``; race against White; drug classes); allele counts 0-2; target
#: INR as a number. NaN = unknown.
#:
#: Beyond the IWPC formula's covariates (age, height, weight, race, VKORC1, CYP2C9 *2/*3,
#: amiodarone, enzyme inducer) the row carries sex, other reduced-function CYP2C9 alleles, smoking
#: and target INR. Smoking and target INR lowered the final pipeline's ridge model's 5-fold CV MAE
#: on the training part from 8.41 to 8.38 mg/week (3 fold seeds, sd <= 0.006); statins (897 users)
#: changed it by 0.001 and are left out; anti-fungal azoles (17 users), sulfonamides (15) and
#: macrolides (6) are too rare to learn from (azoles made CV slightly worse in an earlier run), so
#: they are read but not used: a prediction names them as not covered by the model instead.
FEATURES: tuple[str, ...] = (
    "age_decade",
    "height_cm",
    "weight_kg",
    "male",
    "race_asian",
    "race_black",
    "race_missing_or_mixed",
    "vkorc1_rs9923231_a_count",
    "cyp2c9_star2_count",
    "cyp2c9_star3_count",
    "cyp2c9_other_reduced_count",
    "amiodarone",
    "enzyme_inducer",
    "smoker",
    "target_inr",
)

#: Which columns encode one fact; explanations reset a whole group at once.
GROUPS: Mapping[str, tuple[int, ...]] = {
    "VKORC1 rs9923231": (7,),
    "CYP2C9 genotype": (8, 9, 10),
    "age": (0,),
    "height": (1,),
    "weight": (2,),
    "sex": (3,),
    "race": (4, 5, 6),
    "amiodarone": (11,),
    "enzyme inducer": (12,),
    "smoking": (13,),
    "target INR": (14,),
}


def _num(value: float | int | bool | None) -> float:
    return float("nan") if value is None else float(value)


def features(cov: Covariates, cyp2c9: Cyp2c9Genotype | None, vkorc1: str | None) -> np.ndarray:
    """One row of :data:`FEATURES` for a patient; the same function for training and prediction.

    ``cyp2c9`` None (not genotyped) makes all three CYP2C9 columns NaN; ``vkorc1`` is the
    rs9923231 genotype (``A/A``, ``A/G``, ``G/G``) or None.
    """
    male = None if cov.sex is None else cov.sex == "male"
    c9: tuple[int | None, int | None, int | None] = (
        (None, None, None) if cyp2c9 is None else (cyp2c9.star2, cyp2c9.star3, cyp2c9.other_reduced)
    )
    values: list[float | int | bool | None] = [
        cov.age_decade,
        cov.height_cm,
        cov.weight_kg,
        male,
        cov.race == "asian",
        cov.race == "black",
        cov.race == "missing_or_mixed",
        vkorc1_a_count(vkorc1),
        *c9,
        cov.amiodarone,
        cov.enzyme_inducer,
        cov.smoker,
        cov.target_inr,
    ]
    return np.array([_num(v) for v in values], dtype=float)
