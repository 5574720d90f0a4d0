"""The IWPC warfarin cohort, and the one feature builder that training and prediction share.

The International Warfarin Pharmacogenetics Consortium table (PharmGKB, 5,700 patients from
21 sites) records a stable weekly warfarin dose next to age decade, height, weight, race,
co-medications and the CYP2C9 and VKORC1 genotypes. :func:`read_iwpc` turns it into typed
:class:`IwpcRecord` rows; :func:`features` turns *any* patient (an IWPC record, or a report's
genotype calls plus a ``--patient`` file) into the same numeric row, so a model never sees a
column built one way in training and another way at the bedside.

Missing values stay missing: a field the table leaves ``NA`` (or the user leaves out) becomes
NaN in the row, and the model pipeline handles it explicitly, by estimating it from the
patient's other covariates (:func:`pgx.ml.warfarin.imputer` says why not a missing
indicator). Nothing is silently read as "normal", "not taking it" or "typical", and a
prediction lists what it had to estimate.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pgx.errors import ImportSourceError
from pgx.ml.patient import PatientCovariates

IwpcRace = Literal["white", "asian", "black", "missing_or_mixed"]
Sex = Literal["female", "male"]
DrugClass = Literal["amiodarone", "enzyme_inducer", "statin", "azole", "sulfonamide", "macrolide"]
Vkorc1Source = Literal["genotyped", "rs2359612", "rs9934438", "rs8050894"]

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
            race = patient.race  # type: ignore[assignment]  # narrowed by the membership test
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


_DIPLOTYPE = re.compile(r"^(\*\d+[A-Z]?)/(\*\d+[A-Z]?)$")


@functools.lru_cache(maxsize=1)
def _cyp2c9_alleles() -> dict[str, tuple[str | None, float | None]]:
    from pgx.knowledge.loader import load_knowledge

    gene = load_knowledge().gene("CYP2C9")
    return {a.name: (a.function, a.activity_value) for a in gene.named_alleles}


def cyp2c9_genotype(diplotype: str) -> Cyp2c9Genotype | None:
    """Parse ``*1/*3``; ``None`` for anything that is not a pair of CYP2C9 star alleles."""
    m = _DIPLOTYPE.match(diplotype.strip())
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


# -- the IWPC table ---------------------------------------------------------------------------

COL_DOSE = "Therapeutic Dose of Warfarin"
COL_STABLE = "Subject Reached Stable Dose of Warfarin"
COL_CYP2C9 = "CYP2C9 consensus"
COL_RS9923231 = "VKORC1 -1639 consensus"
COL_RS9934438 = "VKORC1 1173 consensus"
COL_RS8050894 = "VKORC1 1542 consensus"
COL_RS2359612 = "VKORC1 2255 consensus"
STATIN_COLUMNS = (
    "Simvastatin (Zocor)",
    "Atorvastatin (Lipitor)",
    "Fluvastatin (Lescol)",
    "Lovastatin (Mevacor)",
    "Pravastatin (Pravachol)",
    "Rosuvastatin (Crestor)",
    "Cerivastatin (Baycol)",
)
INDUCER_COLUMNS = ("Carbamazepine (Tegretol)", "Phenytoin (Dilantin)", "Rifampin or Rifampicin")
REQUIRED_COLUMNS = (
    "PharmGKB Subject ID",
    "Gender",
    "Race",
    "Age",
    "Height (cm)",
    "Weight (kg)",
    "Amiodarone (Cordarone)",
    *INDUCER_COLUMNS,
    *STATIN_COLUMNS,
    "Sulfonamide Antibiotics",
    "Macrolide Antibiotics",
    "Anti-fungal Azoles",
    "Target INR",
    COL_STABLE,
    COL_DOSE,
    "Current Smoker",
    COL_CYP2C9,
    COL_RS9923231,
    COL_RS9934438,
    COL_RS8050894,
    COL_RS2359612,
)

RACES: Mapping[str, IwpcRace] = {
    "White": "white",
    "Asian": "asian",
    "Black or African American": "black",
    "Unknown": "missing_or_mixed",
}
_AGE = re.compile(r"^(\d)0 - (\d)9$")

#: rs9923231 imputed from a VKORC1 SNP in strong linkage disequilibrium with it, as in the IWPC
#: 2009 supplement, tried in this order. ``any_race`` False: only for patients whose race is known
#: and not Black (linkage is weaker in African ancestry).
#:
#: The correspondence is checked against this table's own cross-tabulation (patients genotyped
#: for both SNPs; :func:`imputation_concordance`; counts for the 2025 PharmGKB file):
#:
#: - rs2359612 (2255 C>T): C/C -> G/G, C/T -> A/G, T/T -> A/A. White 907/914 agree, Asian
#:   1131/1132, but Black only 95/116 (C/T is G/G in 14 of 28) and missing/mixed 26/31: hence
#:   the race condition.
#: - rs9934438 (1173 C>T): C/C -> G/G, C/T -> A/G, T/T -> A/A. White 996/1012, Asian
#:   1359/1360, Black 304/315, missing/mixed 33/33: used for any race.
#: - rs8050894 (1542 G>C): G/G -> G/G, C/G -> A/G, C/C -> A/A. White 1219/1253, Asian
#:   1132/1133, but Black 135/212 (C/G is G/G in 60 of 81): race condition again.
IMPUTATION_RULES: tuple[tuple[Vkorc1Source, str, bool, Mapping[str, str]], ...] = (
    ("rs2359612", COL_RS2359612, False, {"C/C": "G/G", "C/T": "A/G", "T/T": "A/A"}),
    ("rs9934438", COL_RS9934438, True, {"C/C": "G/G", "C/T": "A/G", "T/T": "A/A"}),
    ("rs8050894", COL_RS8050894, False, {"G/G": "G/G", "C/G": "A/G", "C/C": "A/A"}),
)


@dataclass(frozen=True)
class IwpcRecord:
    """One patient of the IWPC table. ``line`` is the physical line in the CSV (header = 1)."""

    line: int
    subject: str
    covariates: Covariates
    stable: bool | None
    dose_mg_week: float | None
    cyp2c9: str | None  # consensus diplotype as written, e.g. "*1/*11"
    rs9923231: str | None  # genotyped consensus
    vkorc1: str | None  # rs9923231 after imputation
    vkorc1_source: Vkorc1Source | None
    proxies: Mapping[str, str | None]  # rs2359612, rs9934438, rs8050894 as written

    def cyp2c9_genotype(self) -> Cyp2c9Genotype | None:
        return None if self.cyp2c9 is None else cyp2c9_genotype(self.cyp2c9)

    def features(self) -> np.ndarray:
        return features(self.covariates, self.cyp2c9_genotype(), self.vkorc1)

    @property
    def race(self) -> IwpcRace:
        return self.covariates.race


class _Row:
    """Typed access to one CSV row, raising ImportSourceError with file:line."""

    def __init__(self, path: Path, line: int, row: Mapping[str, str]) -> None:
        self.path, self.line, self.row = path, line, row

    def fail(self, column: str, what: str) -> ImportSourceError:
        return ImportSourceError(
            f"{self.path}:{self.line}: column {column!r}: {what}", hint="fix the row or restore the PharmGKB IWPC file"
        )

    def raw(self, column: str) -> str | None:
        value = (self.row.get(column) or "").strip()
        return None if value in ("", "NA") else value

    def number(self, column: str, low: float, high: float) -> float | None:
        value = self.raw(column)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(column, f"{value!r} is not a number") from None
        if not low <= number <= high:
            raise self.fail(column, f"{number:g} is outside {low:g}-{high:g}")
        return number

    def flag(self, column: str) -> bool | None:
        value = self.raw(column)
        if value not in (None, "0", "1"):
            raise self.fail(column, f"{value!r} is not 0, 1 or NA")
        return None if value is None else value == "1"

    def any_flag(self, columns: Iterable[str]) -> bool | None:
        """1 if any column says 1, 0 if at least one says 0 and none 1, None if all are NA."""
        flags = [self.flag(c) for c in columns]
        return True if any(flags) else (False if any(f is False for f in flags) else None)

    def choice(self, column: str, allowed: Iterable[str]) -> str | None:
        value = self.raw(column)
        options = tuple(allowed)
        if value is not None and value not in options:
            raise self.fail(column, f"{value!r} is not one of {', '.join(options)} or NA")
        return value

    def age_decade(self) -> int | None:
        value = self.raw("Age")
        if value is None:
            return None
        if value == "90+":
            return 9
        m = _AGE.match(value)
        if m is None or m.group(1) != m.group(2):
            raise self.fail("Age", f"{value!r} is not an age decade like '60 - 69' or '90+'")
        return int(m.group(1))

    def cyp2c9(self) -> str | None:
        value = self.raw(COL_CYP2C9)
        if value is not None and _DIPLOTYPE.match(value) is None:
            raise self.fail(COL_CYP2C9, f"{value!r} is not a diplotype like '*1/*3'")
        return value


def impute_vkorc1(
    race: IwpcRace, rs9923231: str | None, proxies: Mapping[str, str | None]
) -> tuple[str | None, Vkorc1Source | None]:
    """rs9923231 as genotyped, else imputed from the first usable proxy SNP (:data:`IMPUTATION_RULES`)."""
    if rs9923231 is not None:
        return rs9923231, "genotyped"
    for rsid, _, any_race, mapping in IMPUTATION_RULES:
        if not any_race and race not in ("white", "asian"):
            continue
        proxy = proxies.get(rsid)
        if proxy is not None and proxy in mapping:
            return mapping[proxy], rsid
    return None, None


def _record(path: Path, line: int, row: Mapping[str, str]) -> IwpcRecord:
    r = _Row(path, line, row)
    subject = r.raw("PharmGKB Subject ID")
    if subject is None:
        raise r.fail("PharmGKB Subject ID", "empty")
    race_label = r.choice("Race", RACES)
    sex = r.choice("Gender", ("female", "male"))
    cov = Covariates(
        age_decade=r.age_decade(),
        height_cm=r.number("Height (cm)", 30, 250),
        weight_kg=r.number("Weight (kg)", 1, 400),
        sex=sex,  # type: ignore[arg-type]  # checked by choice()
        race=RACES[race_label] if race_label else "missing_or_mixed",
        amiodarone=r.flag("Amiodarone (Cordarone)"),
        enzyme_inducer=r.any_flag(INDUCER_COLUMNS),
        statin=r.any_flag(STATIN_COLUMNS),
        azole=r.flag("Anti-fungal Azoles"),
        sulfonamide=r.flag("Sulfonamide Antibiotics"),
        macrolide=r.flag("Macrolide Antibiotics"),
        smoker=r.flag("Current Smoker"),
        target_inr=r.number("Target INR", 1, 5),
    )
    proxies: dict[str, str | None] = {rsid: r.choice(column, mapping) for rsid, column, _, mapping in IMPUTATION_RULES}
    rs9923231 = r.choice(COL_RS9923231, VKORC1_GENOTYPES)
    vkorc1, source = impute_vkorc1(cov.race, rs9923231, proxies)
    return IwpcRecord(
        line=line,
        subject=subject,
        covariates=cov,
        stable=r.flag(COL_STABLE),
        dose_mg_week=r.number(COL_DOSE, 0.1, 400),
        cyp2c9=r.cyp2c9(),
        rs9923231=rs9923231,
        vkorc1=vkorc1,
        vkorc1_source=source,
        proxies=proxies,
    )


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            yield from _parse(path, csv.reader(fh))
    except OSError as exc:
        raise ImportSourceError(
            f"{path}: cannot read ({exc.strerror})", hint="pass --iwpc pointing at the PharmGKB IWPC warfarin.csv"
        ) from None


def _parse(path: Path, reader: Any) -> Iterator[tuple[int, dict[str, str]]]:
    header = next(reader, None)
    if header is None:
        raise ImportSourceError(f"{path}:1: empty file, expected the IWPC table's header")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportSourceError(
            f"{path}:1: column {missing[0]!r} missing"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            hint="is this the PharmGKB IWPC warfarin table?",
        )
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # the PharmGKB export ends with an empty row
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            raise ImportSourceError(f"{path}:{reader.line_num}: {len(cells)} fields, header has {len(header)}")
        cells = cells + [""] * (len(header) - len(cells))
        yield reader.line_num, dict(zip(header, cells[: len(header)], strict=True))


def read_iwpc(path: str | Path) -> list[IwpcRecord]:
    """All patients of the IWPC table (blank rows skipped), in file order."""
    path = Path(path)
    return [_record(path, line, row) for line, row in _rows(path)]


def imputation_concordance(records: Iterable[IwpcRecord]) -> dict[str, dict[IwpcRace, tuple[int, int]]]:
    """Per proxy SNP and race: (patients whose genotyped rs9923231 the rule predicts, patients with both).

    The check behind :data:`IMPUTATION_RULES`: the mapping must agree with the data where both
    SNPs were genotyped, and the race conditions exist where it does not.
    """
    out: dict[str, dict[IwpcRace, tuple[int, int]]] = {}
    records = list(records)
    for rsid, _, _, mapping in IMPUTATION_RULES:
        agree: Counter[IwpcRace] = Counter()
        both: Counter[IwpcRace] = Counter()
        for rec in records:
            proxy = rec.proxies.get(rsid)
            if proxy is None or rec.rs9923231 is None:
                continue
            both[rec.race] += 1
            agree[rec.race] += mapping[proxy] == rec.rs9923231
        out[rsid] = {race: (agree[race], both[race]) for race in sorted(both)}
    return out
