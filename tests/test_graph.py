"""The drug-gene graph (pgx.graph): built from knowledge/ and the rule base, queried for the drugs a
patient's phenotypes affect, for alternatives not affected by the same gene, and for the evidence path
of a flag (genotype -> phenotype -> pathway -> drug -> rule); exported as GraphML/JSON for curators;
and the `pgx graph` commands that expose the same queries.

Cases are drawn from the knowledge and rule files, so a curated fact the graph drops or bends fails here.
"""

from __future__ import annotations

import io
import json
import typing
from pathlib import Path

import networkx as nx
import pytest

from pgx.errors import UsageError
from pgx.graph import (
    METABOLISM_ROLES,
    affected_drugs,
    alternatives,
    drug_id,
    evidence_path,
    export,
    gene_id,
    graph_for,
    pathways,
)
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.knowledge.schema import PathwayRole
from pgx.patient.state import from_phenotypes
from pgx.rules.engine import evaluate_drug
from pgx.rules.loader import RuleBase, load_rules
from pgx.rules.schema import LookupRule
from tests.conftest import run_pgx, simulate_vcf

KB = load_knowledge()
RB = load_rules()
assert KB.drugs is not None and KB.interactions is not None
DRUGS = {d.name: d for d in KB.drugs.drugs}
PATHWAY_DRUGS = sorted(name for name, d in DRUGS.items() if d.pathways)


def _avoid_cases() -> list[tuple[str, str, str]]:
    """(drug, gene, phenotype): for every drug, the first single-gene phenotype rule that says avoid it."""
    cases: dict[str, tuple[str, str]] = {}
    for drug in RB.drugs:
        for r in RB.rules_for(drug):
            if (
                isinstance(r, LookupRule)
                and r.action in ("avoid", "contraindicated")
                and len(r.condition) == 1
                and r.condition[0].phenotypes
            ):
                cases.setdefault(drug, (r.condition[0].gene, r.condition[0].phenotypes[0]))
    return [(d, g, p) for d, (g, p) in sorted(cases.items())]


AVOID_CASES = _avoid_cases()


@pytest.fixture(scope="module")
def g(kb: KnowledgeBase) -> nx.MultiDiGraph:
    return graph_for(kb, load_rules())


@pytest.fixture(scope="module")
def rb() -> RuleBase:
    return load_rules()


def _drugs_with_gene(gene: str) -> set[str]:
    return {name for name, d in DRUGS.items() if any(p.gene == gene for p in d.pathways)}


# ----------------------------------------------------------------------------------- structure


@pytest.mark.parametrize("drug", RB.drugs)
def test_every_rule_drug_is_a_drug_node(g: nx.MultiDiGraph, drug: str) -> None:
    assert g.nodes[drug_id(drug)]["kind"] == "drug"


def test_every_node_has_a_kind_and_a_label(g: nx.MultiDiGraph) -> None:
    bare = [n for n, data in g.nodes(data=True) if not data.get("kind") or not data.get("label")]
    assert not bare, f"nodes without kind/label (an edge created them implicitly): {bare}"
    kinds = {data["kind"] for _, data in g.nodes(data=True)}
    assert kinds == {"drug", "gene", "phenotype", "class", "indication"}


def test_perpetrator_genes_outside_the_knowledge_base_are_marked_uncovered(g: nx.MultiDiGraph) -> None:
    assert KB.interactions is not None
    for gene in {p.gene for p in KB.interactions.perpetrators} - set(KB.genes):
        assert g.nodes[gene_id(gene)] == {"kind": "gene", "label": gene, "covered": False}


def test_edge_relations_and_roles_use_the_allowed_vocabulary(g: nx.MultiDiGraph) -> None:
    allowed_roles = set(typing.get_args(PathwayRole))
    assert allowed_roles > METABOLISM_ROLES
    relations = set()
    for src, dst, key, data in g.edges(keys=True, data=True):
        relations.add(data["relation"])
        assert key == data["relation"]
        if data["relation"] == "metabolized_by":
            assert data["role"] in METABOLISM_ROLES, (src, dst, data)
        elif data["relation"] == "transported_by":
            assert data["role"] == "transport", (src, dst, data)
        elif data["relation"] == "associated_with":
            assert data["role"] in allowed_roles - METABOLISM_ROLES - {"transport"}, (src, dst, data)
        elif data["relation"] in ("inhibits", "induces"):
            assert data["strength"] in ("strong", "moderate", "weak"), (src, dst, data)
        elif data["relation"] == "annotated_with":  # a CPIC/PharmGKB-listed pair without a curated role
            assert not any(
                k in ("metabolized_by", "transported_by", "associated_with") for k in g.get_edge_data(src, dst)
            ), (src, dst)
        kinds = (g.nodes[src]["kind"], g.nodes[dst]["kind"])
        expected = {
            "has_phenotype": ("gene", "phenotype"),
            "in_class": ("drug", "class"),
            "treats": ("drug", "indication"),
            "alternative_to": ("drug", "drug"),
        }.get(data["relation"], ("drug", "gene"))
        assert kinds == expected, (src, dst, data)
    assert relations == {
        "has_phenotype",
        "in_class",
        "treats",
        "metabolized_by",
        "transported_by",
        "associated_with",
        "inhibits",
        "induces",
        "alternative_to",
        "annotated_with",
    }


@pytest.mark.parametrize("drug", PATHWAY_DRUGS)
def test_pathways_are_the_curated_ones(g: nx.MultiDiGraph, drug: str) -> None:
    assert pathways(g, drug) == sorted((p.gene, p.role) for p in DRUGS[drug].pathways)


def test_classes_and_indications_are_the_curated_ones(g: nx.MultiDiGraph) -> None:
    for name, d in DRUGS.items():
        targets = {
            dst for _, dst, data in g.out_edges(drug_id(name), data=True) if data["relation"] in ("in_class", "treats")
        }
        assert targets == {f"class:{c}" for c in d.classes} | {f"indication:{i}" for i in d.indications}, name


def test_every_perpetrator_is_an_edge_with_its_strength(g: nx.MultiDiGraph) -> None:
    assert KB.interactions is not None
    for p in KB.interactions.perpetrators:
        relation = "inhibits" if p.effect == "inhibitor" else "induces"
        data = g.get_edge_data(drug_id(p.drug), gene_id(p.gene), key=relation)
        assert data is not None, p
        assert (data["strength"], data["source"]) == (p.strength, p.source)


def test_every_alternative_named_by_a_rule_is_an_edge(g: nx.MultiDiGraph, rb: RuleBase) -> None:
    for drug in rb.drugs:
        for rule in rb.rules_for(drug):
            for alt in getattr(rule, "alternatives", []):
                assert g.has_edge(drug_id(alt), drug_id(drug), key="alternative_to"), (rule.id, alt)


# ----------------------------------------------------------------------------------- affected drugs


@pytest.mark.parametrize(
    ("gene", "phenotype", "example"),
    [
        ("CYP2C19", "Poor Metabolizer", "clopidogrel"),
        ("CYP2C19", "Ultrarapid Metabolizer", "citalopram"),
        ("CYP2D6", "Poor Metabolizer", "codeine"),
        ("CYP2D6", "Ultrarapid Metabolizer", "tramadol"),
        ("TPMT", "Intermediate Metabolizer", "azathioprine"),
        ("DPYD", "Poor Metabolizer", "fluorouracil"),
        ("SLCO1B1", "Decreased Function", "simvastatin"),
        ("HLA-B", "*57:01 positive", "abacavir"),
    ],
)
def test_affected_drugs_are_exactly_the_drugs_on_that_gene(
    g: nx.MultiDiGraph, gene: str, phenotype: str, example: str
) -> None:
    hits = affected_drugs(g, from_phenotypes("p", {gene: phenotype}))
    names = {a.drug for a in hits}
    assert example in names
    assert names == _drugs_with_gene(gene)
    assert all(a.gene == gene for a in hits)
    assert {a.phenotype for a in hits} == {phenotype}
    roles = {(a.drug, a.role) for a in hits}
    assert roles == {(n, p.role) for n in names for p in DRUGS[n].pathways if p.gene == gene}


def test_affected_drugs_for_cyp2c19_leave_out_drugs_without_a_cyp2c19_pathway(g: nx.MultiDiGraph) -> None:
    names = {a.drug for a in affected_drugs(g, from_phenotypes("p", {"CYP2C19": "Poor Metabolizer"}))}
    assert "clopidogrel" in names
    assert not names & {"codeine", "prasugrel", "ticagrelor", "warfarin", "abacavir", "morphine"}


@pytest.mark.parametrize(
    "phenotypes",
    [
        {"CYP2C19": "Normal Metabolizer", "CYP2D6": "Normal Metabolizer", "TPMT": "Normal Metabolizer"},
        {"HLA-B": "*57:01 negative", "SLCO1B1": "Normal Function", "CYP2C19": "Indeterminate"},
        {"RYR1": "Uncertain Susceptibility"},
    ],
)
def test_typical_results_affect_no_drug(g: nx.MultiDiGraph, phenotypes: dict[str, str]) -> None:
    assert affected_drugs(g, from_phenotypes("p", phenotypes)) == []


def test_affected_drugs_see_a_phenoconverted_patient(g: nx.MultiDiGraph, kb: KnowledgeBase) -> None:
    from pgx.patient.conversion import apply_medications

    state = from_phenotypes("p", {"CYP2D6": "Normal Metabolizer"}, activity_scores={"CYP2D6": 2.0})
    assert affected_drugs(g, state) == []
    converted = apply_medications(kb, state.model_copy(update={"medications": ("paroxetine",)}))
    hits = affected_drugs(g, converted)
    assert {a.drug for a in hits} == _drugs_with_gene("CYP2D6") and {a.phenotype for a in hits} == {"Poor Metabolizer"}


# ----------------------------------------------------------------------------------- alternatives


def _alt_names(alts: list[dict[str, str]]) -> set[str]:
    return {a["drug"] for a in alts}


def test_clopidogrel_alternatives_for_a_cyp2c19_poor_metabolizer(g: nx.MultiDiGraph) -> None:
    alts = alternatives(g, "clopidogrel", from_phenotypes("p", {"CYP2C19": "Poor Metabolizer"}))
    assert {"prasugrel", "ticagrelor"} <= _alt_names(alts)
    assert "clopidogrel" not in _alt_names(alts)
    for a in alts:
        assert "CYP2C19" not in {gene for gene, _ in pathways(g, a["drug"])}, a
        assert a["pathway_genes"] == (", ".join(sorted({gn for gn, _ in pathways(g, a["drug"])})) or "none")


def test_codeine_alternatives_for_a_cyp2d6_poor_metabolizer_exclude_cyp2d6_opioids(g: nx.MultiDiGraph) -> None:
    unfiltered = _alt_names(alternatives(g, "codeine"))
    assert {"tramadol", "hydrocodone", "morphine"} <= unfiltered  # same indication, before the patient is known
    alts = alternatives(g, "codeine", from_phenotypes("p", {"CYP2D6": "Poor Metabolizer"}))
    names = _alt_names(alts)
    assert "morphine" in names
    assert not names & {"tramadol", "hydrocodone", "oxycodone", "codeine"}
    assert all("CYP2D6" not in a["pathway_genes"] for a in alts)
    annotated = {g.nodes[s]["label"] for s, _, k in g.in_edges(gene_id("CYP2D6"), keys=True) if k == "annotated_with"}
    assert "dextromethorphan" in annotated and "dextromethorphan" not in names  # CYP2D6 substrate without a role
    assert names == {n for n in unfiltered if "CYP2D6" not in {gn for gn, _ in pathways(g, n)} and n not in annotated}


@pytest.mark.parametrize(("drug", "gene", "phenotype"), AVOID_CASES, ids=[c[0] for c in AVOID_CASES])
def test_no_alternative_depends_on_the_gene_that_rules_the_drug_out(
    g: nx.MultiDiGraph, drug: str, gene: str, phenotype: str
) -> None:
    patient = from_phenotypes("p", {gene: phenotype})
    for a in alternatives(g, drug, patient):
        assert gene not in {gn for gn, _ in pathways(g, a["drug"])}, a
        assert a["drug"] != drug
        # every alternative is related: same class, same indication, or named by one of the drug's rules
        why = a["why"]
        if why.startswith("named by rule "):
            rule_id = why.removeprefix("named by rule ")
            rule = next(r for r in RB.rules_for(drug) if r.id == rule_id)
            assert a["drug"] in getattr(rule, "alternatives", [])
        else:
            relation, target = why.split(" ", 1)
            d = DRUGS[a["drug"]]
            assert target in (d.classes if relation == "in_class" else d.indications), a
            assert target in (DRUGS[drug].classes if relation == "in_class" else DRUGS[drug].indications), a


def test_alternatives_avoid_every_atypical_gene_of_the_patient(g: nx.MultiDiGraph) -> None:
    patient = from_phenotypes("p", {"CYP2D6": "Poor Metabolizer", "CYP2C19": "Poor Metabolizer"})
    alts = alternatives(g, "amitriptyline", patient)
    assert alts, "amitriptyline has antidepressant alternatives"
    for a in alts:
        assert not {"CYP2D6", "CYP2C19"} & {gn for gn, _ in pathways(g, a["drug"])}, a


def test_alternatives_of_an_unknown_drug_is_an_error(g: nx.MultiDiGraph) -> None:
    with pytest.raises(UsageError, match="notadrug"):
        alternatives(g, "notadrug")
    with pytest.raises(UsageError):
        alternatives(g, "CYP2C19")  # a gene is not a drug
    assert alternatives(g, "Clopidogrel") == alternatives(g, "clopidogrel")


# ----------------------------------------------------------------------------------- evidence path


def _paths(g: nx.MultiDiGraph, rb: RuleBase, drug: str, patient: object) -> list[list[tuple[str, str]]]:
    """(kind, text) of each step of each evidence path of the drug's outcome."""
    rules = {r.id: r for r in rb.rules_for(drug) if isinstance(r, LookupRule)}
    outcome = evaluate_drug(rb, drug, patient)  # type: ignore[arg-type]
    return [
        [(step.kind, step.text) for step in evidence_path(g, patient, drug, rules[r.rule_id])]  # type: ignore[arg-type]
        for s in outcome.sources
        for sc in s.scenarios
        for r in sc.rules
    ]


def test_evidence_path_for_clopidogrel_cyp2c19_2_2(g: nx.MultiDiGraph, rb: RuleBase) -> None:
    patient = from_phenotypes("p", {"CYP2C19": "Poor Metabolizer"}, diplotypes={"CYP2C19": "*2/*2"})
    paths = _paths(g, rb, "clopidogrel", patient)
    assert len(paths) == 2  # CPIC and DPWG
    for path in paths:
        assert [k for k, _ in path] == ["genotype", "phenotype", "pathway", "drug", "rule"]
        assert [t for _, t in path[:4]] == [
            "CYP2C19 *2/*2",
            "CYP2C19 Poor Metabolizer",
            "CYP2C19 turns clopidogrel into its active form",
            "clopidogrel",
        ]
        assert path[4][1].startswith("rule clopidogrel.") and path[4][1].endswith(": avoid)")
    assert {p[4][1].split()[1].split(".")[1] for p in paths} == {"cpic", "dpwg"}


def test_evidence_path_shows_the_genotype_phenotype_and_the_converting_drug(
    g: nx.MultiDiGraph, rb: RuleBase, kb: KnowledgeBase
) -> None:
    from pgx.patient.conversion import apply_medications

    patient = apply_medications(
        kb,
        from_phenotypes(
            "p",
            {"CYP2D6": "Normal Metabolizer"},
            activity_scores={"CYP2D6": 2.0},
            diplotypes={"CYP2D6": "*1/*1"},
            medications=["paroxetine"],
        ),
    )
    [path, *_] = _paths(g, rb, "codeine", patient)
    assert path == [
        ("genotype", "CYP2D6 *1/*1"),
        ("phenotype", "CYP2D6 Normal Metabolizer (genotype)"),
        ("conversion", "Poor Metabolizer with paroxetine (strong inhibitor)"),
        ("pathway", "CYP2D6 turns codeine into its active form"),
        ("drug", "codeine"),
        ("rule", "rule codeine.cpic.cyp2d6-poor-metabolizer (CPIC: avoid)"),
    ]


def test_evidence_path_for_an_allele_status_gene(g: nx.MultiDiGraph, rb: RuleBase) -> None:
    [path, *_] = _paths(g, rb, "abacavir", from_phenotypes("p", {"HLA-B": "*57:01 positive"}))
    assert path[:3] == [
        ("phenotype", "HLA-B*57:01 positive"),
        ("pathway", "HLA-B alleles mark an immune reaction to abacavir"),
        ("drug", "abacavir"),
    ]
    assert path[3][0] == "rule" and path[3][1].startswith("rule abacavir.")


def test_evidence_path_names_a_gene_without_result(g: nx.MultiDiGraph, rb: RuleBase) -> None:
    patient = from_phenotypes("p", {"CYP2C19": "Poor Metabolizer"})
    outcome = evaluate_drug(rb, "amitriptyline", patient)
    rules = {r.id: r for r in rb.rules_for("amitriptyline") if isinstance(r, LookupRule)}
    fired = [
        rules[r.rule_id]
        for s in outcome.sources
        for sc in s.scenarios
        for r in sc.rules
        if len(rules[r.rule_id].condition) == 2
    ]
    assert fired
    steps = evidence_path(g, patient, "amitriptyline", fired[0])
    assert [s.text for s in steps if s.kind == "no_result"] == ["CYP2D6: no result (CYP2D6 is not in the input)"]


# ----------------------------------------------------------------------------------- export


def test_graphml_export_reads_back_with_the_same_graph(g: nx.MultiDiGraph) -> None:
    back = nx.read_graphml(io.StringIO(export(g, "graphml")))
    assert back.is_directed() and back.is_multigraph()
    assert (back.number_of_nodes(), back.number_of_edges()) == (g.number_of_nodes(), g.number_of_edges())
    assert set(back.nodes) == set(g.nodes)
    assert dict(back.nodes(data="kind")) == dict(g.nodes(data="kind"))
    assert sorted((u, v, k) for u, v, k in back.edges(keys=True)) == sorted(g.edges(keys=True))
    assert back.graph["knowledge_version"] == KB.version and back.graph["rules_version"] == RB.version
    data = back.get_edge_data(drug_id("paroxetine"), gene_id("CYP2D6"), key="inhibits")
    assert data["strength"] == "strong"


def test_json_export_is_node_link_json(g: nx.MultiDiGraph) -> None:
    data = json.loads(export(g, "json"))
    assert data["directed"] is True and data["multigraph"] is True
    assert {n["id"] for n in data["nodes"]} == set(g.nodes)
    assert len(data["edges"]) == g.number_of_edges()
    assert all({"source", "target", "key", "relation"} <= set(e) for e in data["edges"])
    back = nx.node_link_graph(data, edges="edges")
    assert (back.number_of_nodes(), back.number_of_edges()) == (g.number_of_nodes(), g.number_of_edges())
    clop = next(e for e in data["edges"] if e["source"] == drug_id("clopidogrel") and e["target"] == gene_id("CYP2C19"))
    assert (clop["relation"], clop["role"]) == ("metabolized_by", "activation")


# ----------------------------------------------------------------------------------- command line


def _one_line_error(proc: object) -> None:
    assert proc.returncode != 0  # type: ignore[attr-defined]
    err = proc.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def cyp2c19_pm_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_vcf(tmp_path_factory.mktemp("graph") / "pm.vcf", {"CYP2C19": "*2/*2"})


def test_cli_affected_matches_the_library(g: nx.MultiDiGraph) -> None:
    proc = run_pgx("graph", "affected", "-p", "CYP2C19=Poor Metabolizer")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    lib = affected_drugs(g, from_phenotypes("p", {"CYP2C19": "Poor Metabolizer"}))
    assert [line.split()[0] for line in lines] == [a.drug for a in lib]
    for line, a in zip(lines, lib, strict=True):
        assert line.split()[1:] == [a.gene, a.role, *a.phenotype.split()]
    assert "clopidogrel" in {line.split()[0] for line in lines}


def test_cli_affected_output_is_tab_separated() -> None:
    proc = run_pgx("graph", "affected", "-p", "CYP2C19=Poor Metabolizer")
    assert "clopidogrel\tCYP2C19\tactivation\tPoor Metabolizer" in proc.stdout.splitlines()


def test_cli_alternatives_from_a_vcf(cyp2c19_pm_vcf: Path) -> None:
    proc = run_pgx("graph", "alternatives", "Clopidogrel", "--vcf", str(cyp2c19_pm_vcf))
    assert proc.returncode == 0, proc.stderr
    names = {line.split()[0] for line in proc.stdout.splitlines()}
    assert {"prasugrel", "ticagrelor"} <= names and "clopidogrel" not in names
    assert "CYP2C19" not in proc.stdout


def test_cli_path_from_a_vcf(cyp2c19_pm_vcf: Path) -> None:
    proc = run_pgx("graph", "path", "clopidogrel", "--vcf", str(cyp2c19_pm_vcf))
    assert proc.returncode == 0, proc.stderr
    head, *lines = proc.stdout.splitlines()
    assert head == "clopidogrel: contraindicated (avoid)"
    assert len(lines) == 2
    for line in lines:
        steps = line.split(" -> ")
        assert steps[:4] == [
            "CYP2C19 *2/*2",
            "CYP2C19 Poor Metabolizer",
            "CYP2C19 turns clopidogrel into its active form",
            "clopidogrel",
        ]
        assert steps[4].startswith("rule clopidogrel.") and "avoid" in steps[4]


@pytest.mark.parametrize("fmt", ["graphml", "json"])
def test_cli_export(tmp_path: Path, g: nx.MultiDiGraph, fmt: str) -> None:
    out = tmp_path / f"graph.{fmt}"
    proc = run_pgx("graph", "export", "-f", fmt, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    back = nx.read_graphml(out) if fmt == "graphml" else nx.node_link_graph(json.loads(out.read_text()), edges="edges")
    assert (back.number_of_nodes(), back.number_of_edges()) == (g.number_of_nodes(), g.number_of_edges())


@pytest.mark.parametrize(
    "args",
    [
        ("alternatives", "notadrug", "-p", "CYP2C19=Poor Metabolizer"),
        ("affected", "-p", "CYP2C19"),
        ("export", "-f", "xml"),
    ],
    ids=["alternatives-unknown-drug", "phenotype-without-value", "export-unknown-format"],
)
def test_cli_bad_input_is_a_one_line_error(args: tuple[str, ...]) -> None:
    _one_line_error(run_pgx("graph", *args))


# Drug, gene and phenotype names given on the command line are checked against the knowledge base.
def test_cli_path_unknown_drug_is_a_one_line_error() -> None:
    _one_line_error(run_pgx("graph", "path", "notadrug", "-p", "CYP2D6=Poor Metabolizer"))


def test_cli_unknown_gene_is_a_one_line_error() -> None:
    _one_line_error(run_pgx("graph", "affected", "-p", "NOTAGENE=Poor Metabolizer"))


def test_cli_unknown_phenotype_is_a_one_line_error() -> None:
    _one_line_error(run_pgx("graph", "affected", "-p", "CYP2D6=Banana"))
    _one_line_error(run_pgx("graph", "affected", "-p", "HLA-B=*57:01 maybe"))


def test_cli_phenotype_names_are_case_insensitive_and_scores_accepted() -> None:
    by_name = run_pgx("graph", "affected", "-p", "cyp2d6=poor metabolizer")
    by_score = run_pgx("graph", "affected", "-p", "CYP2D6=0")
    assert by_name.returncode == 0 and by_name.stdout == by_score.stdout and "codeine\tCYP2D6" in by_name.stdout
