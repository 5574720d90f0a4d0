"""The knowledge base: reproducible from its sources, faithful to them, and strict on load."""

from __future__ import annotations

import ast
import csv
import filecmp
import inspect
import json
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

import pgx.knowledge.schema as knowledge_schema
from pgx.errors import KnowledgeError
from pgx.knowledge.importer.build import build_knowledge
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.phenotype.phenotyper import phenotype_from_functions, phenotype_from_score
from pgx.schemas import SCHEMAS, render
from tests.conftest import REPO, SHARED, needs_shared, run_pgx

VCF_GENES = {
    "ABCG2", "CACNA1S", "CFTR", "CYP2B6", "CYP2C19", "CYP2C9", "CYP2D6", "CYP3A4", "CYP3A5", "CYP4F2",
    "DPYD", "G6PD", "IFNL3", "NAT2", "NUDT15", "RYR1", "SLCO1B1", "TPMT", "UGT1A1", "VKORC1",
    "F5",  # from PyPGx's tables (curation.yaml pypgx_genes)
}  # fmt: skip


def test_bundled_knowledge_covers_the_genes(kb: KnowledgeBase) -> None:
    assert {g.gene for g in kb.vcf_genes()} == VCF_GENES
    assert {"HLA-A", "HLA-B", "MT-RNR1"} <= set(kb.genes)
    assert kb.version == kb.manifest.knowledge_version
    cyp2d6 = kb.gene("CYP2D6")
    assert cyp2d6.quirks.copy_number is not None and cyp2d6.quirks.copy_number.deletion_allele == "*5"
    assert kb.gene("NAT2").quirks.required_positions and kb.gene("NAT2").quirks.unphased_priorities
    assert kb.gene("DPYD").quirks.calling == "lowest_function" and kb.gene("G6PD").quirks.ploidy == "x_linked"


@needs_shared
def test_importer_reproduces_committed_yaml(tmp_path: Path) -> None:
    out = tmp_path / "knowledge"
    out.mkdir()
    for curated in ("curation.yaml", "drug_curation.yaml"):
        shutil.copy(REPO / "knowledge" / curated, out / curated)
    build_knowledge(SHARED / "data", out)  # type: ignore[operator]
    committed = REPO / "knowledge"
    names = sorted(p.name for p in (committed / "genes").glob("*.yaml"))
    assert names == sorted(p.name for p in (out / "genes").glob("*.yaml"))
    _, mismatch, errors = filecmp.cmpfiles(committed / "genes", out / "genes", names, shallow=False)
    assert not mismatch and not errors, f"knowledge/ is stale; rerun `pgx knowledge build`: {mismatch[:5]}"
    assert filecmp.cmp(committed / "manifest.yaml", out / "manifest.yaml", shallow=False)
    assert filecmp.cmp(committed / "drugs.yaml", out / "drugs.yaml", shallow=False), "knowledge/drugs.yaml is stale"
    assert filecmp.cmp(committed / "annotations.yaml", out / "annotations.yaml", shallow=False), (
        "knowledge/annotations.yaml is stale"
    )


def _pharmcat_table(gene: str) -> tuple[list[tuple[list[str], str, str | None]], dict[str, tuple[str, float | None]]]:
    """Source diplotype rows, and the source's own allele facts (some alleles, e.g. SVs, are not matchable)."""
    data = json.loads((SHARED / f"data/pharmcat/phenotype/{gene}.json").read_text())  # type: ignore[operator]
    rows = [
        (
            [n for n, c in r["diplotypekey"].items() for _ in range(c)],
            r["phenotype"] or r["generesult"],
            r["activityScore"],
        )
        for r in data["diplotypes"]
    ]
    facts = {
        a["name"]: (a["functionValue"], None if a["activityValue"] in (None, "n/a") else float(a["activityValue"]))
        for a in data["namedAlleles"]
    }
    return rows, facts


PHARMCAT_PHENO_GENES = [
    "ABCG2",
    "CACNA1S",
    "CFTR",
    "CYP2B6",
    "CYP2C19",
    "CYP2C9",
    "CYP3A4",
    "CYP3A5",
    "DPYD",
    "NAT2",
    "NUDT15",
    "SLCO1B1",
    "TPMT",
    "UGT1A1",
    "VKORC1",
]


@needs_shared
@pytest.mark.parametrize("gene", PHARMCAT_PHENO_GENES)
def test_phenotype_rules_reproduce_every_source_row(gene: str, kb: KnowledgeBase) -> None:
    g = kb.gene(gene)
    rows, source_facts = _pharmcat_table(gene)
    ours = {a.name: (a.function, a.activity_value) for a in g.named_alleles}
    for name, fact in ours.items():  # where both know an allele they agree
        if name in source_facts:
            assert fact == source_facts[name], name
    facts = {**source_facts, **ours}
    assert rows
    for names, phenotype, score in rows:
        if g.phenotyping.method == "activity_score":
            acts = [facts[n][1] for n in names]
            total = None if None in acts else sum(acts)  # type: ignore[arg-type]
            assert (f"{total:.1f}" if total is not None else "n/a") == score
            assert phenotype_from_score(g, total) == phenotype, names
        else:
            assert phenotype_from_functions(g, [facts[n][0] for n in names]) == phenotype, names


@needs_shared
@pytest.mark.parametrize("gene", ["CYP2D6", "G6PD", "RYR1"])
def test_derived_phenotypes_match_panno_rows(gene: str, kb: KnowledgeBase) -> None:
    """Genes whose phenotype table is not in the PharmCAT copy: checked against PAnno's rows."""
    g = kb.gene(gene)
    facts = {a.name: a for a in g.named_alleles}
    checked = 0
    with open(SHARED / "data/panno/diplotype_phenotype.tsv", newline="") as fh:  # type: ignore[operator]
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["Gene"] != gene:
                continue
            names = [n for n in (r["Allele1"], r["Allele2"]) if n]
            if gene == "CYP2D6":
                if not r["ActivityScore"] or r["ActivityScore"].startswith("≥"):
                    continue
                assert phenotype_from_score(g, float(r["ActivityScore"])) == r["Phenotype"], r
                checked += 1
            elif all(n in facts and "assumed" not in (facts[n].function_source or "") for n in names):
                assert phenotype_from_functions(g, [facts[n].function for n in names]) == r["Phenotype"], r
                checked += 1
    assert checked > 20


def test_yaml_error_points_to_file_line_column(tmp_path: Path) -> None:
    kdir = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", kdir, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    path = kdir / "genes/TPMT.yaml"
    lines = path.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if line.strip().startswith("function: No function"))
    lines[target] = lines[target].replace("function: No function", "function: [not, a, string]")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(str(kdir))
    assert f"TPMT.yaml:{target + 1}:" in str(exc.value)
    proc = run_pgx("knowledge", "validate", str(kdir))
    assert proc.returncode == 2 and f"TPMT.yaml:{target + 1}:" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    kdir = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", kdir, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    path = kdir / "genes/G6PD.yaml"
    text = path.read_text()
    assert "\nquirks:\n" in text
    path.write_text(text.replace("\nquirks:\n", "\nquirks:\n  plodiy: x_linked\n", 1))
    with pytest.raises(KnowledgeError, match=r"G6PD\.yaml:\d+:\d+: quirks\.plodiy"):
        load_knowledge(str(kdir))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_json_schemas_are_current(name: str) -> None:
    committed = (REPO / "schemas" / name).read_text()
    assert committed == render(SCHEMAS[name]), f"schemas/{name} is stale; run `pgx knowledge schema`"


# Fields that no code reads, on purpose: provenance written into the knowledge YAML (and the JSON
# Schema) for curators and auditors, never an input to behaviour. Nothing reads them through
# model_dump either: outside the importer, no knowledge model is dumped. Every other field must be
# read somewhere, so a field whose description promises a behaviour cannot silently have none.
RECORD_ONLY: dict[tuple[str, str], str] = {}  # fields kept only as a record, with why (none today)
_VALIDATORS = {"model_validator", "field_validator"}


def _reads(tree: ast.AST) -> set[str]:
    """Attribute names read in ``tree``: ``x.name`` and ``getattr(x, "name")``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            out.add(node.args[1].value)
    return out


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return str(getattr(target, "id", None) or getattr(target, "attr", ""))


def _fields_read_by_code() -> set[str]:
    """Names read anywhere in pgx/ except where knowledge is made: the importer, the curation
    models, and schema.py's own validators (schema methods such as ScoreBand.holds do count)."""
    root = REPO / "pgx"
    making = {root / "knowledge/schema.py", root / "knowledge/curation.py", *(root / "knowledge/importer").glob("*.py")}
    names: set[str] = set()
    for path in root.rglob("*.py"):
        if path not in making:
            names |= _reads(ast.parse(path.read_text(encoding="utf-8")))
    for node in ast.walk(ast.parse((root / "knowledge/schema.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and not {_decorator_name(d) for d in node.decorator_list} & _VALIDATORS:
            names |= _reads(node)
    return names


def test_every_knowledge_field_is_read_by_some_code() -> None:
    """A tripwire, not a proof: a name read anywhere counts (``.name`` is read on many things), so it
    catches fields whose name no code mentions, like the removed Quirks.ignored_variants."""
    models = [
        m
        for _, m in inspect.getmembers(knowledge_schema, inspect.isclass)
        if issubclass(m, BaseModel) and m.__module__ == knowledge_schema.__name__
    ]
    assert len(models) > 20
    fields = {(m.__name__, f) for m in models for f in m.model_fields}
    assert set(RECORD_ONLY) <= fields, sorted(set(RECORD_ONLY) - fields)
    read = _fields_read_by_code()
    unread = sorted((m, f) for m, f in fields if f not in read and (m, f) not in RECORD_ONLY)
    assert not unread, f"knowledge fields no code reads (give them a behaviour, or remove them): {unread}"


def test_field_scan_sees_attribute_and_getattr_reads() -> None:
    code = "def f(g):\n    return g.quirks.copy_number, getattr(g, 'strand'), g.positions[0]\n"
    assert _reads(ast.parse(code)) == {"quirks", "copy_number", "strand", "positions"}
