"""Readers for the public source tables under ``../shared/data``.

Each function reads one table and returns plain Python structures; ``build.py`` turns
them into pgx's schema. Nothing here writes files, and nothing outside the importer reads
the source tables: the installed package only sees the YAML that ``build`` writes.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgx.errors import ImportSourceError


@dataclass(frozen=True)
class SourceTree:
    root: Path

    @property
    def pharmcat(self) -> Path:
        return self.root / "pharmcat"

    @property
    def pypgx(self) -> Path:
        return self.root / "pypgx"

    @property
    def panno(self) -> Path:
        return self.root / "panno"

    def require(self) -> None:
        for sub in (self.pharmcat / "definition", self.pharmcat / "phenotype", self.pypgx, self.panno):
            if not sub.is_dir():
                raise ImportSourceError(
                    f"{sub}: source folder not found",
                    hint="give {source} as the shared data folder (the one holding pharmcat/, pypgx/, panno/)",
                    field="source",
                )


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImportSourceError(f"{path}: cannot read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ImportSourceError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def read_commit(folder: Path) -> str | None:
    path = folder / "SOURCE_COMMIT"
    return path.read_text().strip() if path.exists() else None


def pharmcat_definition(src: SourceTree, gene: str) -> dict[str, Any]:
    data: dict[str, Any] = read_json(src.pharmcat / "definition" / f"{gene}_translation.json")
    return data


def pharmcat_definition_genes(src: SourceTree) -> list[str]:
    return sorted(
        p.name.removesuffix("_translation.json") for p in (src.pharmcat / "definition").glob("*_translation.json")
    )


def pharmcat_exemptions(src: SourceTree) -> dict[str, Any]:
    data: dict[str, Any] = read_json(src.pharmcat / "definition" / "exemptions.json")
    return data


def pharmcat_phenotype(src: SourceTree, filename: str) -> dict[str, Any] | None:
    path = src.pharmcat / "phenotype" / filename
    return read_json(path) if path.exists() else None


def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh, delimiter=delimiter))
    except OSError as exc:
        raise ImportSourceError(f"{path}: cannot read ({exc.strerror})") from None


def na(value: str | None) -> str | None:
    """None for the tables' ways of writing no value (empty, N/A, NA, n/a)."""
    return None if value in (None, "", "N/A", "NA", "n/a") else value


def pypgx_alleles(src: SourceTree, gene: str) -> dict[str, dict[str, str | None]]:
    """Star allele -> {function, activity, sv} from PyPGx's allele table (sv: "1" when structural)."""
    out: dict[str, dict[str, str | None]] = {}
    for row in read_csv(src.pypgx / "allele-table.csv"):
        if row["Gene"] == gene:
            out[row["StarAllele"]] = {
                "function": na(row["Function"]),
                "activity": na(row["ActivityScore"]),
                "sv": "1" if row["SV"].strip().upper() == "TRUE" else None,
            }
    return out


def pypgx_rows(src: SourceTree, table: str, gene: str) -> list[dict[str, str]]:
    """One gene's rows of a PyPGx table (``allele-table.csv``, ``diplotype-table.csv``, ...), as written."""
    return [row for row in read_csv(src.pypgx / table) if row["Gene"] == gene]


def pypgx_gene(src: SourceTree, gene: str) -> dict[str, str] | None:
    for row in read_csv(src.pypgx / "gene-table.csv"):
        if row["Gene"] == gene:
            return row
    return None


def pypgx_grch37(src: SourceTree) -> dict[tuple[int, str, str], tuple[int, str, str]]:
    """(GRCh38 pos, ref, alt) -> (GRCh37 pos, ref, alt), from PyPGx's variant table."""
    out: dict[tuple[int, str, str], tuple[int, str, str]] = {}
    for row in read_csv(src.pypgx / "variant-table.csv"):
        n38 = row["GRCh38Name"].split("-")
        n37 = row["GRCh37Name"].split("-")
        if len(n38) != 4 or len(n37) != 4 or not n38[1].isdigit() or not n37[1].isdigit():
            continue
        out[(int(n38[1]), n38[2], n38[3])] = (int(n37[1]), n37[2], n37[3])
    return out


def panno_diplotypes(src: SourceTree, gene: str) -> list[dict[str, str]]:
    return [r for r in read_csv(src.panno / "diplotype_phenotype.tsv", "\t") if r["Gene"] == gene]


def panno_activity_values(rows: list[dict[str, str]], unit_allele: str, unit_value: float) -> dict[str, float]:
    """Per-allele activity values solved from diplotype scores paired with a known allele."""
    values: dict[str, float] = {}
    for r in rows:
        score = r["ActivityScore"]
        if not score or score.startswith("≥"):
            continue
        a1, a2 = r["Allele1"], r["Allele2"]
        if a1 == unit_allele and a2 and "x" not in a2:
            values.setdefault(a2, float(score) - unit_value)
        elif a2 == unit_allele and a1 and "x" not in a1:
            values.setdefault(a1, float(score) - unit_value)
    return values


def group_by(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out
