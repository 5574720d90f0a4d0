"""The curation files are typed: a misspelt key, a wrong type or an entry that matches nothing
in the sources stops `pgx knowledge build` with one line naming file:line:column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

from pgx.errors import KnowledgeError
from pgx.knowledge.curation import (
    CuratedQuirks,
    DrugCuration,
    KnowledgeCuration,
    load_curation,
    load_drug_curation,
    read_curated,
)
from pgx.knowledge.importer.build import build_knowledge
from pgx.knowledge.schema import Quirks
from pgx.yamlio import load_marked
from tests.conftest import REPO, SHARED, needs_shared, run_pgx

FILES: dict[str, type[BaseModel]] = {"curation.yaml": KnowledgeCuration, "drug_curation.yaml": DrugCuration}


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "knowledge"
    out.mkdir()
    for name in FILES:
        shutil.copy(REPO / "knowledge" / name, out / name)
    return out


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` with ``new``; return the offset where ``new`` starts."""
    text = path.read_text()
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :])
    return at


def _mark(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _find(path: Path, needle: str, start: int) -> tuple[int, int]:
    """Where ``needle`` first occurs at or after ``start``."""
    text = path.read_text()
    return _mark(text, text.index(needle, start))


def _where(path: Path, line: int, column: int) -> str:
    return f"{path}:{line}:{column}: "


def test_committed_curation_files_validate() -> None:
    cur = load_curation(REPO / "knowledge/curation.yaml")
    assert cur.genes["DPYD"].quirks.calling == "lowest_function" and "F5" in cur.pypgx_genes
    drugs = load_drug_curation(REPO / "knowledge/drug_curation.yaml")
    assert drugs.roles()[("clopidogrel", "CYP2C19")] == "activation"


def test_drug_roles_are_what_the_untyped_reader_gave() -> None:
    """``load_drug_curation(path).roles()`` can replace the rules importer's own ``load_roles``."""
    data = load_marked(REPO / "knowledge/drug_curation.yaml").data
    untyped = {(d.lower(), p["gene"]): p["role"] for d, f in data["drugs"].items() for p in f.get("pathways") or []}
    assert load_drug_curation(REPO / "knowledge/drug_curation.yaml").roles() == untyped


def test_curated_quirks_are_quirks_fields() -> None:
    """A partial of Quirks: same types, defaults and descriptions, so a curated value means what the gene file says."""
    for name, field in CuratedQuirks.model_fields.items():
        full = Quirks.model_fields[name]
        assert (field.annotation, field.description) == (full.annotation, full.description), name
        assert field.get_default(call_default_factory=True) == full.get_default(call_default_factory=True), name


# (file, text to replace, replacement, where the error points: at the key or at the value)
MISSPELT = [
    ("curation.yaml", "    tie_break_alleles:", "    tie_brake_alleles:", "genes.DPYD.tie_brake_alleles"),
    ("curation.yaml", "      calling: lowest_function", "      callin: lowest_function", "genes.DPYD.quirks.callin"),
    ("curation.yaml", "knowledge_revision:", "knowledge_revison:", "knowledge_revison"),
    (
        "drug_curation.yaml",
        "    pathways:\n      # Prodrug",
        "    pathway:\n      # Prodrug",
        "drugs.clopidogrel.pathway",
    ),
    ("drug_curation.yaml", "    label: Antiplatelet", "    lable: Antiplatelet", "indications.0.lable"),
]


@pytest.mark.parametrize("name,old,new,field", MISSPELT, ids=[m[3] for m in MISSPELT])
def test_misspelt_key_is_an_error_at_the_key(name: str, old: str, new: str, field: str, tmp_path: Path) -> None:
    path = _copy(tmp_path) / name
    line, column = _find(path, new.lstrip(), _edit(path, old, new))  # the key, after its indentation
    with pytest.raises(KnowledgeError) as exc:
        read_curated(path, FILES[name])
    message = str(exc.value)
    assert message.startswith(_where(path, line, column) + field + ": Extra inputs are not permitted"), message
    assert "\n" not in message


WRONG_TYPE = [
    ("curation.yaml", "knowledge_revision: 3", "knowledge_revision: three", "three", "knowledge_revision"),
    ("curation.yaml", "      ploidy: x_linked", "      ploidy: [x_linked]", "[x_linked]", "genes.G6PD.quirks.ploidy"),
    ("curation.yaml", "        max_copies_label: 3", "        max_copies_label: many", "many", "max_copies_label"),
    ("drug_curation.yaml", "    atc: [B01AC22]", "    atc: [B01AC2]", "B01AC2", "drugs.prasugrel.atc.0"),
    (
        "drug_curation.yaml",
        'role: activation, source: "https://cpicpgx.org/guidelines/guideline-for-clopidogrel',
        'role: activator, source: "https://cpicpgx.org/guidelines/guideline-for-clopidogrel',
        "activator",
        "drugs.clopidogrel.pathways.0.role",
    ),
]


@pytest.mark.parametrize("name,old,new,value,field", WRONG_TYPE, ids=[w[4] for w in WRONG_TYPE])
def test_wrong_type_is_an_error_at_the_value(
    name: str, old: str, new: str, value: str, field: str, tmp_path: Path
) -> None:
    path = _copy(tmp_path) / name
    line, column = _find(path, value, _edit(path, old, new))
    with pytest.raises(KnowledgeError) as exc:
        read_curated(path, FILES[name])
    message = str(exc.value)
    assert message.startswith(_where(path, line, column)) and field in message, message
    assert "\n" not in message


DUPLICATE = {
    "curation.yaml": ("\npypgx_genes:", "\ngenes:\n  G6PD:\n    quirks: {ploidy: x_linked}\npypgx_genes:", "genes:"),
    "drug_curation.yaml": (
        "  prasugrel:",
        "  clopidogrel:\n    indications: []\n    pathways: []\n  prasugrel:",
        "clopidogrel:",
    ),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_duplicate_key_is_an_error_at_the_second(name: str, tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys: the first entry would be lost without a word."""
    path = _copy(tmp_path) / name
    old, new, key = DUPLICATE[name]
    line, column = _find(path, key, _edit(path, old, new))
    with pytest.raises(KnowledgeError, match="duplicate key") as exc:
        read_curated(path, FILES[name])
    assert str(exc.value).startswith(_where(path, line, column)), str(exc.value)


@needs_shared
@pytest.mark.parametrize("name", sorted(FILES))
def test_build_reports_one_line(name: str, tmp_path: Path) -> None:
    out = _copy(tmp_path)
    old, new, field = {
        "curation.yaml": ("      ploidy: x_linked", "      plodiy: x_linked", "plodiy"),
        "drug_curation.yaml": (
            "    indications: [antiplatelet_pci]",
            "    indications: antiplatelet_pci",
            "indications",
        ),
    }[name]
    line, _ = _mark((out / name).read_text(), _edit(out / name, old, new))
    proc = run_pgx("knowledge", "build", "--source", str(SHARED / "data"), "--out", str(out))  # type: ignore[operator]
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and f"{name}:{line}:" in proc.stderr and field in proc.stderr
    assert not (out / "genes").exists(), "nothing is written when the curation does not validate"


# Entries that match nothing in the sources: (file, text to replace, replacement, text the error points at, words)
DEAD = [
    ("curation.yaml", "genes:\n", "genes:\n  CYP9Z9:\n    quirks: {ploidy: x_linked}\n", "CYP9Z9:", "no PharmCAT"),
    ("curation.yaml", "genes:\n", "genes:\n  NAT2: {}\n", "NAT2:", "curates nothing"),
    ("curation.yaml", '      - "c.2846A>T"', '      - "c.2846A>X"', '"c.2846A>X"', "not a named allele"),
    (
        "curation.yaml",
        "      ploidy: x_linked",
        "      ploidy: x_linked\n      function_order: [Normal]",
        "function_order",
        "only lowest",
    ),
    (
        "curation.yaml",
        "      function_order: [Malignant",
        "      function_order: [Malignant hyperthermia associated, Malignant",
        "Malignant hyperthermia associated",
        "no RYR1 allele has function",
    ),
    (
        "curation.yaml",
        "        position: 21178615",
        "        position: 21178616",
        "21178616",
        "not a position of SLCO1B1",
    ),
    (
        "curation.yaml",
        '          authoritative_only_allele: "c.1129-5923C>G"',
        '          authoritative_only_allele: "HapB3"',
        '"HapB3"',
        "not a named allele",
    ),
    (
        "curation.yaml",
        '        deletion_allele: "*5"',
        '        deletion_allele: "*55"',
        '"*55"',
        "not a structural allele",
    ),
    ("curation.yaml", "[CACNA1S, DPYD,", "[CACNA1S, CYP9Z9, DPYD,", "CYP9Z9", "not a gene pgx calls"),
    ("curation.yaml", "  F5: {}", "  F5: {}\n  ZZZ9: {}", "ZZZ9:", "not in pypgx/gene-table.csv"),
    (
        "curation.yaml",
        "outside_only:\n",
        "outside_only:\n  TPMT:\n    chromosome: chr16\n    status_alleles: ['*3A']\n",
        "TPMT:",
        "PharmCAT defines",
    ),
    (
        "drug_curation.yaml",
        "  prasugrel:",
        "  clopidogrell:\n    indications: []\n    pathways: []\n  prasugrel:",
        "clopidogrell:",
        "not in pypgx/cpic-table.csv",
    ),
    (
        "drug_curation.yaml",
        "    indications: [antiplatelet_pci]\n    pathways:\n      # Prodrug",
        "    atc: [B01AC04]\n    indications: [antiplatelet_pci]\n    pathways:\n      # Prodrug",
        "atc",
        "would be ignored",
    ),
    (
        "drug_curation.yaml",
        "    indications: [antiplatelet_pci]",
        "    indications: [antiplatelet]",
        "antiplatelet",
        "not declared",
    ),
    (
        "drug_curation.yaml",
        "indications:\n",
        "indications:\n  - id: unused\n    label: Nothing uses this\n",
        "unused",
        "no drug names",
    ),
    (
        "drug_curation.yaml",
        "{gene: CYP2C8, role: clearance_minor",
        "{gene: CYP2C88, role: clearance_minor",
        "CYP2C88",
        "not a pgx gene",
    ),
]


@needs_shared
@pytest.mark.parametrize("name,old,new,at,words", DEAD, ids=[f"{d[0]}:{d[3]}" for d in DEAD])
def test_dead_entry_fails_the_build_at_its_line(
    name: str, old: str, new: str, at: str, words: str, tmp_path: Path
) -> None:
    out = _copy(tmp_path)
    path = out / name
    line, column = _find(path, at, _edit(path, old, new))
    with pytest.raises(KnowledgeError) as exc:
        build_knowledge(SHARED / "data", out)  # type: ignore[operator]
    message = str(exc.value)
    assert message.startswith(_where(path, line, column)) and words in message, message
    assert "\n" not in message
