"""Source-table values -> pieces of pgx's schema, shared by every gene importer.

Function labels, activity values and regions as the tables write them, and the compaction
of diplotype -> phenotype rows into rules. Pure functions: no file is read here.
"""

from __future__ import annotations

from typing import Any

from pgx.errors import ImportSourceError
from pgx.knowledge.schema import FunctionPairRule, Region, ScoreRule


def function_label(text: str | None) -> str | None:
    """CPIC capitalisation: 'No Function' -> 'No function'; keeps proper nouns of MH labels."""
    if text is None:
        return None
    low = text.strip()
    for word in ("Function", "Response", "Associated"):
        low = low.replace(f" {word}", f" {word.lower()}")
    return low


def activity(value: Any) -> float | None:
    """An activity value as the tables write it; empty and n/a mean not assigned."""
    if value in (None, "", "n/a", "N/A"):
        return None
    return float(value)


def function_from_activity(value: float | None) -> str:
    """The CPIC function label an activity value stands for (when a table gives only the value)."""
    if value is None:
        return "Uncertain function"
    if value == 0:
        return "No function"
    if value < 1:
        return "Decreased function"
    if value == 1:
        return "Normal function"
    return "Increased function"


def region(text: str | None) -> Region | None:
    """``chr1:100-200`` -> Region(100, 200); empty or malformed -> None."""
    if not text or ":" not in text:
        return None
    _, span = text.split(":", 1)
    start, end = span.split("-")
    return Region(start=int(start), end=int(end))


def pair_rules(pairs: dict[tuple[str, ...], set[str]], where: str) -> list[FunctionPairRule]:
    """Function pair -> phenotype rules; a pair seen with two phenotypes is an import error."""
    rules = []
    for funcs, phenos in sorted(pairs.items()):
        if len(phenos) != 1:
            raise ImportSourceError(f"{where}: functions {funcs} map to several phenotypes {sorted(phenos)}")
        rules.append(FunctionPairRule(functions=list(funcs), phenotype=next(iter(phenos))))
    return rules


def score_ranges(scores: dict[str, set[str]], where: str) -> list[ScoreRule]:
    """Compact score -> phenotype rows into inclusive ranges; '≥x' values open the top range."""
    numeric: dict[float, str] = {}
    open_top: dict[str, float] = {}
    for raw, phenos in scores.items():
        if len(phenos) != 1:
            raise ImportSourceError(f"{where}: activity score {raw} maps to several phenotypes {sorted(phenos)}")
        pheno = next(iter(phenos))
        if raw in ("", "n/a", None):
            continue
        if raw.startswith("≥"):
            open_top[pheno] = min(open_top.get(pheno, float("inf")), float(raw[1:]))
            continue
        numeric[float(raw)] = pheno
    ranges: list[ScoreRule] = []
    for score in sorted(numeric):
        pheno = numeric[score]
        if ranges and ranges[-1].phenotype == pheno:
            ranges[-1] = ScoreRule(min=ranges[-1].min, max=score, phenotype=pheno)
        else:
            if any(r.phenotype == pheno for r in ranges):
                raise ImportSourceError(f"{where}: phenotype {pheno} is not one contiguous score range")
            ranges.append(ScoreRule(min=score, max=score, phenotype=pheno))
    if open_top:
        if len(open_top) != 1 or ranges[-1].phenotype not in open_top:
            raise ImportSourceError(f"{where}: '≥' scores must all belong to the highest range")
        ranges[-1] = ScoreRule(min=ranges[-1].min, max=None, phenotype=ranges[-1].phenotype)
    return ranges
