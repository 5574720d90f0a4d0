"""Phenoconversion (pgx.patient.conversion): co-medications change the phenotype the dosing rules see.

A strong CYP2D6 inhibitor makes a normal metabolizer a poor one, a moderate one lowers the activity score,
inducers raise function; the genotype phenotype is kept beside the converted one with the drug that caused
the change. Cases are parametrised over knowledge/interactions.yaml, so every listed perpetrator and every
conversion block is exercised as the data describe it. End to end: `pgx simulate` -> `pgx report --meds`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pgx.api import assess_vcf
from pgx.knowledge.loader import load_knowledge
from pgx.knowledge.schema import GeneConversion, Perpetrator
from pgx.patient.conversion import apply_medications, perpetrators_for, unconverted_genes
from pgx.patient.state import GeneOption, GeneResult, PatientState, from_phenotypes
from pgx.phenotype.phenotyper import phenotype_from_score
from pgx.report.models import DrugReport
from tests.conftest import REPO, run_pgx, simulate_vcf

KB = load_knowledge()
assert KB.interactions is not None
PERPS: list[Perpetrator] = KB.interactions.perpetrators
CONV: dict[str, GeneConversion] = {c.gene: c for c in KB.interactions.conversions}
RAW = yaml.safe_load((REPO / "knowledge" / "interactions.yaml").read_text("utf-8"))


def _perps(gene: str | None = None, effect: str | None = None, strength: str | None = None) -> list[Perpetrator]:
    return [
        p
        for p in PERPS
        if (gene is None or p.gene == gene)
        and (effect is None or p.effect == effect)
        and (strength is None or p.strength == strength)
    ]


def _ids(perps: list[Perpetrator]) -> list[str]:
    return [f"{p.drug}-{p.gene}-{p.strength}-{p.effect}" for p in perps]


def _converting(kind: str) -> list[Perpetrator]:
    """Perpetrators whose '<strength>_<kind>' has an effect in their gene's conversion block."""
    return [p for p in _perps(effect=kind) if p.gene in CONV and f"{p.strength}_{kind}" in CONV[p.gene].effects]


def _is_score_gene(gene: str) -> bool:
    return gene in KB.genes and KB.gene(gene).phenotyping.method == "activity_score"


def _score_for(gene: str, phenotype: str) -> float | None:
    """A genotype activity score with this phenotype (the lowest of its range), for activity-score genes."""
    if not _is_score_gene(gene):
        return None
    return next(r.min for r in KB.gene(gene).phenotyping.score_ranges if r.phenotype == phenotype)


def _patient(gene: str, phenotype: str, meds: list[str], diplotype: str | None = None) -> PatientState:
    score = _score_for(gene, phenotype)
    return from_phenotypes(
        "p",
        {gene: phenotype},
        activity_scores={gene: score} if score is not None else None,
        diplotypes={gene: diplotype} if diplotype else None,
        medications=meds,
    )


def _option(state: PatientState, gene: str) -> GeneOption:
    [opt] = apply_medications(KB, state).genes[gene].options
    return opt


def _rung(gene: str, phenotype: str, steps: int) -> str:
    ladder = CONV[gene].ladder
    return ladder[min(max(ladder.index(phenotype) + steps, 0), len(ladder) - 1)]


# ----------------------------------------------------------------------------------- data integrity


@pytest.mark.parametrize(
    "entry",
    RAW["perpetrators"],
    ids=[f"{e.get('drug')}-{e.get('gene')}-{e.get('effect')}" for e in RAW["perpetrators"]],
)
def test_every_perpetrator_has_a_strength_and_a_known_source(entry: dict[str, Any]) -> None:
    source_ids = {s["id"] for s in RAW["sources"]}
    assert entry.get("strength") in ("strong", "moderate", "weak"), entry
    assert entry.get("effect") in ("inhibitor", "inducer"), entry
    assert entry.get("source") in source_ids, entry
    assert entry["drug"] == entry["drug"].strip().lower(), "lowercase generic names"
    assert entry["gene"] in CONV, f"{entry['gene']} has no conversion block: the entry would never apply"


def test_sources_are_unique_and_cited() -> None:
    ids = [s["id"] for s in RAW["sources"]]
    assert len(ids) == len(set(ids))
    assert all(s.get("title") and s.get("url") for s in RAW["sources"])


def test_one_entry_per_drug_gene_and_never_both_inhibitor_and_inducer() -> None:
    pairs = [(p.drug, p.gene) for p in PERPS]
    assert len(pairs) == len(set(pairs)), sorted({x for x in pairs if pairs.count(x) > 1})


def test_cyp3a_entries_are_given_for_cyp3a4_and_cyp3a5_alike() -> None:
    def entries(gene: str) -> set[tuple[str, str, str, str]]:
        return {(p.drug, p.effect, p.strength, p.source) for p in _perps(gene)}

    assert entries("CYP3A4") == entries("CYP3A5")


def test_the_spec_strong_cyp2d6_inhibitors_are_listed() -> None:
    assert {"paroxetine", "fluoxetine", "bupropion", "quinidine"} <= {
        p.drug for p in _perps("CYP2D6", "inhibitor", "strong")
    }
    assert not _perps("CYP2D6", "inducer"), "CYP2D6 is not inducible (see the CYP2D6 conversion block)"


@pytest.mark.parametrize("gene", sorted(CONV))
def test_conversion_blocks_are_consistent(gene: str) -> None:
    conv = CONV[gene]
    assert conv.ladder and len(conv.ladder) == len(set(conv.ladder))
    for key, effect in conv.effects.items():
        strength, kind = key.split("_")
        assert strength in ("strong", "moderate") and kind in ("inhibitor", "inducer"), "weak ones never convert"
        if effect.set_phenotype is not None:
            assert effect.set_phenotype in conv.ladder
        if effect.steps is not None:
            assert (effect.steps < 0) == (kind == "inhibitor") and effect.steps != 0
        if effect.activity_factor is not None:
            assert _is_score_gene(gene) and (effect.activity_factor < 1) == (kind == "inhibitor")
    if gene in KB.genes:
        ph = KB.gene(gene).phenotyping
        phenotypes = {r.phenotype for r in ph.function_pairs} | {r.phenotype for r in ph.score_ranges}
        assert set(conv.ladder) <= phenotypes, "a rung the gene never produces"


# ----------------------------------------------------------------------------------- CYP2D6


@pytest.mark.parametrize(
    "perp", _perps("CYP2D6", "inhibitor", "strong"), ids=_ids(_perps("CYP2D6", "inhibitor", "strong"))
)
def test_strong_cyp2d6_inhibitor_makes_a_normal_metabolizer_poor(perp: Perpetrator) -> None:
    opt = _option(
        from_phenotypes(
            "p",
            {"CYP2D6": "Normal Metabolizer"},
            activity_scores={"CYP2D6": 2.0},
            diplotypes={"CYP2D6": "*1/*1"},
            medications=[perp.drug],
        ),
        "CYP2D6",
    )
    assert (opt.phenotype, opt.activity_score, opt.diplotype) == ("Poor Metabolizer", 0.0, "*1/*1")
    assert opt.conversion is not None
    assert opt.conversion.perpetrators == (perp.drug,)
    assert opt.conversion.effect == "strong inhibitor"
    assert (opt.conversion.genotype_phenotype, opt.conversion.genotype_activity_score) == ("Normal Metabolizer", 2.0)
    assert perp.drug in opt.conversion.note and "Normal Metabolizer" in opt.conversion.note


@pytest.mark.parametrize(
    "perp", _perps("CYP2D6", "inhibitor", "moderate"), ids=_ids(_perps("CYP2D6", "inhibitor", "moderate"))
)
def test_moderate_cyp2d6_inhibitor_lowers_the_activity_score(perp: Perpetrator) -> None:
    factor = CONV["CYP2D6"].effects["moderate_inhibitor"].activity_factor
    assert factor is not None and 0 < factor < 1
    opt = _option(
        from_phenotypes(
            "p", {"CYP2D6": "Normal Metabolizer"}, activity_scores={"CYP2D6": 2.0}, medications=[perp.drug]
        ),
        "CYP2D6",
    )
    assert opt.activity_score == pytest.approx(2.0 * factor)
    assert opt.phenotype == phenotype_from_score(KB.gene("CYP2D6"), 2.0 * factor) == "Intermediate Metabolizer"
    assert opt.conversion is not None and opt.conversion.perpetrators == (perp.drug,)
    assert opt.conversion.effect == "moderate inhibitor"


@pytest.mark.parametrize(
    ("phenotype", "score", "meds", "expected"),
    [
        ("Ultrarapid Metabolizer", 3.0, ["duloxetine"], ("Normal Metabolizer", 1.5)),
        ("Intermediate Metabolizer", 0.5, ["paroxetine"], ("Poor Metabolizer", 0.0)),
        ("Ultrarapid Metabolizer", 3.0, ["bupropion"], ("Poor Metabolizer", 0.0)),
    ],
)
def test_cyp2d6_scores_are_rebanded(phenotype: str, score: float, meds: list[str], expected: tuple[str, float]) -> None:
    opt = _option(
        from_phenotypes("p", {"CYP2D6": phenotype}, activity_scores={"CYP2D6": score}, medications=meds), "CYP2D6"
    )
    assert (opt.phenotype, opt.activity_score) == expected


def test_a_poor_metabolizer_stays_poor_without_a_conversion_note() -> None:
    opt = _option(
        from_phenotypes(
            "p", {"CYP2D6": "Poor Metabolizer"}, activity_scores={"CYP2D6": 0.0}, medications=["paroxetine"]
        ),
        "CYP2D6",
    )
    assert (opt.phenotype, opt.activity_score, opt.conversion) == ("Poor Metabolizer", 0.0, None)


def test_strongest_inhibitor_decides_and_all_of_that_strength_are_named() -> None:
    opt = _option(
        from_phenotypes(
            "p",
            {"CYP2D6": "Normal Metabolizer"},
            activity_scores={"CYP2D6": 2.0},
            medications=["duloxetine", "paroxetine", "fluoxetine"],
        ),
        "CYP2D6",
    )
    assert opt.phenotype == "Poor Metabolizer" and opt.conversion is not None
    assert opt.conversion.perpetrators == ("fluoxetine", "paroxetine")  # the moderate duloxetine is not the cause


@pytest.mark.parametrize(
    ("meds", "expected"),
    [
        (["paroxetine"], "Poor Metabolizer"),
        (["duloxetine"], "Intermediate Metabolizer"),
    ],
)
def test_a_phenotype_given_without_its_activity_score_is_converted(meds: list[str], expected: str) -> None:
    """`pgx graph ... -p CYP2D6='Normal Metabolizer'` and phenotype-only outside calls carry no score."""
    opt = _option(from_phenotypes("p", {"CYP2D6": "Normal Metabolizer"}, medications=meds), "CYP2D6")
    assert opt.phenotype == expected
    assert opt.conversion is not None and opt.conversion.genotype_phenotype == "Normal Metabolizer"


# A moderate inhibitor halves the score; the genotype grid's ranges have gaps (CYP2D6 0-0.25, 1.0-1.25; CYP2C9
# 0.5-1.0), so a halved score reads through the conversion's continuous score_bands, never as Indeterminate.
@pytest.mark.parametrize(
    ("gene", "score", "med", "expected"),
    [
        ("CYP2C9", 1.5, "fluconazole", "Intermediate Metabolizer"),  # 0.75
        ("CYP2C9", 1.0, "fluconazole", "Poor Metabolizer"),  # 0.5
        ("CYP2D6", 0.25, "duloxetine", "Intermediate Metabolizer"),  # 0.125: CPIC IM is 0 < score < 1.25
        ("CYP2D6", 2.25, "duloxetine", "Intermediate Metabolizer"),  # 1.125
        ("CYP2D6", 2.5, "duloxetine", "Normal Metabolizer"),  # 1.25
        ("CYP2D6", 3.0, "duloxetine", "Normal Metabolizer"),  # 1.5
    ],
)
def test_a_moderate_inhibitor_never_makes_a_result_indeterminate(
    gene: str, score: float, med: str, expected: str
) -> None:
    phenotype = phenotype_from_score(KB.gene(gene), score)
    assert phenotype != "Indeterminate"
    opt = _option(from_phenotypes("p", {gene: phenotype}, activity_scores={gene: score}, medications=[med]), gene)
    assert opt.phenotype == expected and opt.activity_score == score / 2


# ----------------------------------------------------------------------------------- every gene, every perpetrator


@pytest.mark.parametrize("perp", _converting("inhibitor"), ids=_ids(_converting("inhibitor")))
def test_every_converting_inhibitor_lowers_a_normal_metabolizer_as_documented(perp: Perpetrator) -> None:
    effect = CONV[perp.gene].effects[f"{perp.strength}_inhibitor"]
    opt = _option(_patient(perp.gene, "Normal Metabolizer", [perp.drug]), perp.gene)
    if effect.set_phenotype is not None:
        expected = effect.set_phenotype
    elif effect.steps is not None:
        expected = _rung(perp.gene, "Normal Metabolizer", effect.steps)
    else:
        score = _score_for(perp.gene, "Normal Metabolizer")
        assert score is not None and effect.activity_factor is not None
        expected = phenotype_from_score(KB.gene(perp.gene), score * effect.activity_factor)
    assert expected != "Normal Metabolizer"
    assert CONV[perp.gene].ladder.index(expected) < CONV[perp.gene].ladder.index("Normal Metabolizer")
    assert opt.phenotype == expected
    assert opt.conversion is not None and opt.conversion.perpetrators == (perp.drug,)
    assert opt.conversion.genotype_phenotype == "Normal Metabolizer"
    assert opt.conversion.effect == f"{perp.strength} inhibitor"


@pytest.mark.parametrize("perp", _converting("inducer"), ids=_ids(_converting("inducer")))
def test_every_converting_inducer_raises_function_as_documented(perp: Perpetrator) -> None:
    steps = CONV[perp.gene].effects[f"{perp.strength}_inducer"].steps
    assert steps is not None and steps > 0
    start = "Intermediate Metabolizer"
    opt = _option(_patient(perp.gene, start, [perp.drug]), perp.gene)
    assert opt.phenotype == _rung(perp.gene, start, steps) != start
    assert opt.conversion is not None and opt.conversion.perpetrators == (perp.drug,)
    assert (opt.conversion.genotype_phenotype, opt.conversion.effect) == (start, f"{perp.strength} inducer")
    assert opt.conversion.genotype_activity_score == _score_for(perp.gene, start)


@pytest.mark.parametrize("gene", sorted(g for g, c in CONV.items() if any(k.endswith("_inducer") for k in c.effects)))
def test_an_inducer_at_the_top_of_the_ladder_changes_nothing(gene: str) -> None:
    [perp, *_] = sorted(_converting("inducer"), key=lambda p: (p.gene != gene, p.strength != "strong"))
    assert perp.gene == gene
    top = CONV[gene].ladder[-1]
    state = from_phenotypes(
        "p",
        {gene: top},
        activity_scores={gene: s} if (s := _score_for(gene, top)) is not None else None,
        medications=[perp.drug],
    )
    opt = _option(state, gene)
    assert opt == state.genes[gene].options[0]  # same phenotype, score kept, no conversion note


@pytest.mark.parametrize(
    "gene", sorted(g for g, c in CONV.items() if not any(k.endswith("_inducer") for k in c.effects))
)
def test_genes_without_an_inducer_effect_ignore_inducers(gene: str) -> None:
    meds = sorted({p.drug for p in _perps(gene, "inducer")}) or ["rifampin"]
    state = _patient(gene, "Intermediate Metabolizer", meds)
    assert apply_medications(KB, state) == state


@pytest.mark.parametrize(
    "gene",
    sorted(
        g
        for g, c in CONV.items()
        if any(k.endswith("_inducer") for k in c.effects)
        and any(k.endswith("_inhibitor") for k in c.effects)
        and any(p.gene == g for p in _converting("inducer"))
        and any(p.gene == g for p in _converting("inhibitor"))
    ),
)
def test_inhibitor_and_inducer_together_inhibition_wins(gene: str) -> None:
    rank = {"strong": 0, "moderate": 1}
    inducer = min((p for p in _converting("inducer") if p.gene == gene), key=lambda p: rank[p.strength])
    inhibitor = max(
        (p for p in _converting("inhibitor") if p.gene == gene and p.drug != inducer.drug),
        key=lambda p: rank[p.strength],
    )  # the weakest converting inhibitor against the strongest inducer
    together = _option(_patient(gene, "Normal Metabolizer", [inducer.drug, inhibitor.drug]), gene)
    alone = _option(_patient(gene, "Normal Metabolizer", [inhibitor.drug]), gene)
    assert together == alone
    assert together.conversion is not None and together.conversion.perpetrators == (inhibitor.drug,)
    assert together.conversion.effect.endswith("inhibitor")


@pytest.mark.parametrize("perp", _perps(strength="weak"), ids=_ids(_perps(strength="weak")))
def test_weak_perpetrators_change_nothing(perp: Perpetrator) -> None:
    # an intermediate metabolizer has room to move either way
    state = _patient(perp.gene, "Intermediate Metabolizer", [perp.drug], diplotype="*1/*2")
    assert apply_medications(KB, state) == state


@pytest.mark.parametrize("drug", ["morphine", "warfarin", "simvastatin", "codeine", "tacrolimus"])
def test_a_drug_that_is_no_perpetrator_changes_nothing(drug: str) -> None:
    assert drug not in {p.drug for p in PERPS}
    state = from_phenotypes(
        "p", {g: "Normal Metabolizer" for g in CONV}, activity_scores={"CYP2D6": 2.0, "CYP2C9": 2.0}, medications=[drug]
    )
    assert apply_medications(KB, state) == state
    assert perpetrators_for(KB, state.medications) == {}


def test_only_the_genes_a_drug_perpetrates_are_converted() -> None:
    # fluvoxamine: strong CYP2C19 and CYP1A2, moderate CYP3A4/5, weak CYP2C9 inhibitor
    genes = {
        "CYP2C19": "Normal Metabolizer",
        "CYP2D6": "Normal Metabolizer",
        "CYP2C9": "Normal Metabolizer",
        "CYP3A4": "Normal Metabolizer",
        "CYP1A2": "Normal Metabolizer",
        "TPMT": "Normal Metabolizer",
    }
    state = from_phenotypes("p", genes, activity_scores={"CYP2D6": 2.0, "CYP2C9": 2.0}, medications=["Fluvoxamine"])
    after = apply_medications(KB, state)
    changed = {
        g: after.genes[g].options[0].phenotype for g in genes if after.genes[g].options[0] != state.genes[g].options[0]
    }
    assert changed == {
        "CYP2C19": "Poor Metabolizer",
        "CYP1A2": "Poor Metabolizer",
        "CYP3A4": "Intermediate Metabolizer",
    }


def test_every_candidate_diplotype_is_converted_and_keeps_its_own_genotype() -> None:
    options = (
        GeneOption(diplotype="*1/*1", phenotype="Normal Metabolizer", activity_score=2.0),
        GeneOption(diplotype="*1/*4", phenotype="Intermediate Metabolizer", activity_score=1.0),
    )
    state = PatientState(
        sample="p",
        genes={"CYP2D6": GeneResult(gene="CYP2D6", called=True, options=options)},
        medications=("duloxetine",),
    )
    after = apply_medications(KB, state).genes["CYP2D6"].options
    assert [(o.diplotype, o.phenotype, o.activity_score) for o in after] == [
        ("*1/*1", "Intermediate Metabolizer", 1.0),
        ("*1/*4", "Intermediate Metabolizer", 0.5),
    ]
    assert [o.conversion.genotype_phenotype for o in after if o.conversion] == [
        "Normal Metabolizer",
        "Intermediate Metabolizer",
    ]


def test_a_gene_not_called_is_left_alone_and_reported() -> None:
    state = PatientState(
        sample="p",
        genes={"CYP2D6": GeneResult(gene="CYP2D6", called=False, reason="no data")},
        medications=("paroxetine", "sertraline"),
    )
    assert apply_medications(KB, state) == state
    assert unconverted_genes(KB, state) == {"CYP2D6": ["paroxetine", "sertraline"]}


@pytest.mark.parametrize("spelling", ["Paroxetine", "PAROXETINE", " paroxetine "])
def test_medication_names_are_case_insensitive(spelling: str) -> None:
    gene = GeneResult(
        gene="CYP2D6", called=True, options=(GeneOption(phenotype="Normal Metabolizer", activity_score=2.0),)
    )
    state = PatientState(sample="p", genes={"CYP2D6": gene}, medications=(spelling,))
    assert _option(state, "CYP2D6").phenotype == "Poor Metabolizer"
    assert list(perpetrators_for(KB, (spelling,))) == ["CYP2D6"]


# ----------------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def cyp2d6_nm_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_vcf(tmp_path_factory.mktemp("pheno") / "x.vcf", {"CYP2D6": "*1/*1"})


@pytest.fixture(scope="module")
def paroxetine_report(cyp2d6_nm_vcf: Path) -> dict[str, Any]:
    proc = run_pgx("report", str(cyp2d6_nm_vcf), "--meds", "paroxetine", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    DrugReport.model_validate(data)
    return data


def _flag(sample: dict[str, Any], drug: str) -> dict[str, Any]:
    return next(d for d in sample["drugs"] if d["drug"] == drug)


def test_report_with_paroxetine_flags_codeine_and_names_paroxetine(paroxetine_report: dict[str, Any]) -> None:
    [sample] = paroxetine_report["samples"]
    assert sample["medications"] == ["paroxetine"] and paroxetine_report["options"]["medications"] == ["paroxetine"]
    [conv] = sample["phenoconversions"]
    assert conv == {
        "gene": "CYP2D6",
        "genotype_phenotype": "Normal Metabolizer",
        "phenotype": "Poor Metabolizer",
        "activity_score": 0.0,
        "medications": ["paroxetine"],
        "effect": "strong inhibitor",
    }
    codeine = _flag(sample, "codeine")
    assert codeine["level"] == "contraindicated" and codeine["action"] == "avoid"
    labels = [label for s in codeine["sources"] for sc in s["scenarios"] for label in sc["genes"].values()]
    assert labels and all("converted from Normal Metabolizer by paroxetine" in lb for lb in labels)
    texts = [[step["text"] for step in path] for path in codeine["evidence"]]
    assert texts and all("CYP2D6 Normal Metabolizer (genotype)" in t and "paroxetine" in " ".join(t) for t in texts)
    assert not {a["drug"] for a in codeine["class_alternatives"]} & {"tramadol", "hydrocodone", "oxycodone"}
    # the genotype call itself is untouched
    [cyp2d6] = [g for g in sample["genes"] if g["gene"] == "CYP2D6"]
    assert cyp2d6["phenotypes"] == ["Normal Metabolizer"]


def test_report_judges_paroxetine_itself_by_genotype(paroxetine_report: dict[str, Any]) -> None:
    """A perpetrator's own guideline already reflects its effect on its enzyme (pgx/flags/decide.py)."""
    paroxetine = _flag(paroxetine_report["samples"][0], "paroxetine")
    assert paroxetine["level"] == "standard"
    text = json.dumps(paroxetine)
    assert "converted" not in text and "Poor Metabolizer" not in text
    genotype_step = {"kind": "phenotype", "gene": "CYP2D6", "text": "CYP2D6 Normal Metabolizer"}
    assert paroxetine["evidence"] and all(path[1] == genotype_step for path in paroxetine["evidence"])


def test_self_perpetrator_still_sees_the_other_medications(cyp2d6_nm_vcf: Path) -> None:
    report = assess_vcf(cyp2d6_nm_vcf, medications=["Paroxetine", "FLUOXETINE"], drugs=["paroxetine", "codeine"])
    [sample] = report.samples
    flags = {f.drug: f for f in sample.drugs}
    assert flags["codeine"].level == "contraindicated"
    # paroxetine is judged as converted by fluoxetine only
    assert flags["paroxetine"].level != "standard"
    labels = [label for s in flags["paroxetine"].sources for sc in s.scenarios for label in sc.genes.values()]
    assert labels and all(lb.endswith("[converted from Normal Metabolizer by fluoxetine]") for lb in labels)
    [conv] = [c for c in sample.phenoconversions if c.gene == "CYP2D6"]  # fluoxetine also converts CYP2C19
    assert conv.medications == ["fluoxetine", "paroxetine"]


def test_report_without_medications_keeps_the_genotype(cyp2d6_nm_vcf: Path) -> None:
    [sample] = assess_vcf(cyp2d6_nm_vcf, drugs=["codeine"]).samples
    assert sample.phenoconversions == [] and sample.drugs[0].level == "standard"


@pytest.mark.parametrize("meds", [["sertraline"], ["morphine"]], ids=["weak-inhibitor", "not-a-perpetrator"])
def test_report_with_a_non_converting_medication_keeps_the_genotype(cyp2d6_nm_vcf: Path, meds: list[str]) -> None:
    [sample] = assess_vcf(cyp2d6_nm_vcf, medications=meds, drugs=["codeine"]).samples
    assert sample.phenoconversions == [] and sample.drugs[0].level == "standard"


def test_phenotype_only_input_is_converted_end_to_end() -> None:
    proc = run_pgx("graph", "path", "codeine", "-p", "CYP2D6=Normal Metabolizer", "--meds", "Paroxetine")
    assert proc.returncode == 0, proc.stderr
    head, *lines = proc.stdout.splitlines()
    assert head.startswith("codeine: contraindicated")
    assert lines and all("with paroxetine (strong inhibitor)" in line and "poor-metabolizer" in line for line in lines)


def test_report_warns_about_an_unknown_medication_and_still_applies_the_known_ones(cyp2d6_nm_vcf: Path) -> None:
    [sample] = assess_vcf(
        cyp2d6_nm_vcf, medications=["paroxetin", "Fluoxetine", "morphine", "St John's Wort"], drugs=["codeine"]
    ).samples
    unknown = [w for w in sample.medication_warnings if "not in pgx's drug or interaction knowledge" in w]
    assert len(unknown) == 1 and "'paroxetin'" in unknown[0] and "paroxetine" in unknown[0]  # names the likely one
    assert [c.medications for c in sample.phenoconversions if c.gene == "CYP2D6"] == [["fluoxetine"]]


def test_cli_report_prints_the_unknown_medication_warning(cyp2d6_nm_vcf: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_pgx("report", str(cyp2d6_nm_vcf), "--meds", "paroxetin", "-f", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "paroxetin" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(out.read_text())["samples"][0]["phenoconversions"] == []
