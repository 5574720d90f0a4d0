"""The IWPC warfarin cohort: reading the PharmGKB table into typed records.

The International Warfarin Pharmacogenetics Consortium table (PharmGKB, 5,700 patients from
21 sites) records a stable weekly warfarin dose next to age decade, height, weight, race,
co-medications and the CYP2C9 and VKORC1 genotypes. :func:`read_iwpc` turns it into typed
:class:`IwpcRecord` rows, whose :meth:`IwpcRecord.features` is the same row
:func:`pgx.ml.warfarin_features.features` builds for a report's patient. A field the table
leaves ``NA`` stays unknown (``None``), never "normal" or "not taking it".
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pgx.errors import ImportSourceError
from pgx.ml.warfarin_features import (
    DIPLOTYPE,
    VKORC1_GENOTYPES,
    Covariates,
    Cyp2c9Genotype,
    IwpcRace,
    cyp2c9_genotype,
    features,
)

Vkorc1Source = Literal["genotyped", "rs2359612", "rs9934438", "rs8050894"]

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
        if value is not None and DIPLOTYPE.match(value) is None:
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
            f"{path}: cannot read ({exc.strerror})", hint="expected the PharmGKB IWPC warfarin.csv", field="iwpc"
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
