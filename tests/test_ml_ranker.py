"""The therapy re-ranker: rules as hard constraints, explanations, training on outcomes, safe artifacts."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgx.flags.decide import patient_flags
from pgx.knowledge.loader import load_knowledge
from pgx.ml.artifact import load_model, read_card
from pgx.ml.cohort import OutcomeRow, outcomes_csv, response_probability, simulate_outcomes, state_from_phenotypes
from pgx.ml.features import FEATURES, drug_context, relative_function
from pgx.ml.indications import indication_drugs, resolve_indication
from pgx.ml.prior import build_prior
from pgx.ml.ranker import KIND, build_dataset, load_ranker, predict_proba, rank_therapies, train
from pgx.ml.results import RankedTherapy
from pgx.patient.conversion import apply_medications
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import patient_state
from pgx.phenotype.phenotyper import gene_phenotypes
from pgx.rules.loader import load_rules
from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text
from tests.conftest import run_pgx, simulate_vcf

KB = load_knowledge()
RB = load_rules()
RANKED = ["antiplatelet", "depression", "statin", "opioid", "ppi", "thiopurine"]


def _ranking(tmp_path: Path, diplotype: str, *extra: str) -> dict:
    vcf = simulate_vcf(tmp_path / f"p{abs(hash(diplotype))}.vcf", {"CYP2C19": diplotype}, sample="P1")
    proc = run_pgx("report", str(vcf), "--indication", "antiplatelet", "-f", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["samples"][0]


def test_antiplatelet_poor_metabolizer_clopidogrel_ranked_last_and_flagged(tmp_path: Path) -> None:
    sample = _ranking(tmp_path, "*2/*2")
    ranking = sample["therapy_ranking"]
    assert ranking["indication"] == "antiplatelet_pci"
    assert ranking["label"] == "evidence-based prior, not trained on outcomes"
    order = [t["drug"] for t in ranking["therapies"]]
    assert order.index("clopidogrel") > order.index("prasugrel") and order.index("clopidogrel") > order.index(
        "ticagrelor"
    )
    clop = next(t for t in ranking["therapies"] if t["drug"] == "clopidogrel")
    assert not clop["permitted"] and clop["flag_level"] == "contraindicated" and clop["flag_action"] == "avoid"
    assert any("CYP2C19 Poor Metabolizer" in c["text"] and "lowers" in c["text"] for c in clop["contributions"])
    # the flag in the report proper agrees with the ranking's
    assert next(d for d in sample["drugs"] if d["drug"] == "clopidogrel")["level"] == "contraindicated"


def test_antiplatelet_normal_metabolizer_all_permitted_with_explanations(tmp_path: Path) -> None:
    ranking = _ranking(tmp_path, "*1/*1")["therapy_ranking"]
    therapies = ranking["therapies"]
    assert {t["drug"] for t in therapies} == {"clopidogrel", "prasugrel", "ticagrelor"}
    assert all(t["permitted"] for t in therapies)
    assert [t["rank"] for t in therapies] == [1, 2, 3]
    for t in therapies:
        assert t["contributions"], t
        assert all(c["unit"] == "probability points" and c["text"] for c in t["contributions"])
    clop = next(t for t in therapies if t["drug"] == "clopidogrel")
    assert 0.5 < clop["probability"] < 0.9


def test_ranking_in_html_report(tmp_path: Path) -> None:
    vcf = simulate_vcf(tmp_path / "pm.vcf", {"CYP2C19": "*2/*2"}, sample="P1")
    proc = run_pgx("report", str(vcf), "--indication", "antiplatelet", "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r.html").read_text()
    assert "evidence-based prior, not trained on outcomes" in html
    assert 'data-ranked-drug="clopidogrel" data-permitted="false"' in html


@pytest.mark.parametrize(
    "query,expected",
    [
        ("antiplatelet", "antiplatelet_pci"),
        ("statin", "hyperlipidemia_statin"),
        ("ppi", "acid_suppression_ppi"),
        ("opioid", "opioid_analgesia"),
        ("depression", "depression"),
        ("thiopurine", "thiopurine"),
    ],
)
def test_indication_names(query: str, expected: str) -> None:
    assert resolve_indication(KB, query) == expected


@pytest.mark.parametrize("query,message", [("antibiotics", "unknown indication"), ("a", "ambiguous")])
def test_bad_indication_is_a_usage_error(tmp_path: Path, query: str, message: str) -> None:
    vcf = simulate_vcf(tmp_path / "nm.vcf", {"CYP2C19": "*1/*1"})
    proc = run_pgx("report", str(vcf), "--indication", query, "-f", "json")
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ rules are hard constraints


def _genes_of(indication: str) -> list[str]:
    drugs = indication_drugs(KB)[indication]
    return sorted({g for d in drugs for gs in drug_context(KB, RB, d).genes.values() for g in gs})


INDICATIONS = [resolve_indication(KB, q) for q in RANKED]
PERPETRATORS = sorted({p.drug for p in KB.interactions.perpetrators}) if KB.interactions else []


Case = tuple[str, dict[str, str], PatientCovariates]


def probability(t: RankedTherapy) -> float:
    assert t.probability is not None, t.drug
    return t.probability


@st.composite
def patients(draw: st.DrawFn) -> Case:
    indication = draw(st.sampled_from(INDICATIONS))
    phenotypes = {}
    for gene in _genes_of(indication):
        g = KB.gene(gene)
        if draw(st.integers(0, 9)) == 0:
            continue  # not called
        if g.phenotyping.method == "activity_score":
            phenotypes[gene] = f"{draw(st.sampled_from([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.25, 3])):g}"
        else:
            phenotypes[gene] = draw(st.sampled_from(sorted(gene_phenotypes(g))))
    meds = draw(st.lists(st.sampled_from(PERPETRATORS), max_size=2, unique=True))
    cov = PatientCovariates(
        age=draw(st.none() | st.integers(18, 95)),
        sex=draw(st.none() | st.sampled_from(["female", "male"])),
        weight_kg=draw(st.none() | st.integers(40, 160)),
        medications=meds,
    )
    return indication, phenotypes, cov


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients())
def test_contraindicated_never_ranked_above_permitted(case: Case) -> None:
    indication, phenotypes, cov = case
    state = state_from_phenotypes(KB, "H", phenotypes, cov.medications)
    drugs = indication_drugs(KB)[indication]
    converted, flags = patient_flags(KB, RB, state, drugs)
    by_drug = {f.drug: f for f in flags}
    ranking = rank_therapies(KB, RB, indication, converted, flags, cov)
    therapies = ranking.therapies
    assert sorted(t.drug for t in therapies) == sorted(drugs)
    assert [t.rank for t in therapies] == list(range(1, len(drugs) + 1))
    seen_blocked = False
    for t in therapies:
        flag = by_drug.get(t.drug)
        assert t.flag_level == (flag.level if flag else "no_guideline")
        assert t.permitted == (t.flag_level != "contraindicated")
        if not t.permitted:
            seen_blocked = True
            assert any("Not recommended" in n for n in t.notes)
        else:
            assert not seen_blocked, f"{t.drug} permitted but ranked below a contraindicated drug"
        if t.flag_level == "change":
            assert t.flag_action == flag.action and any("dose change" in n for n in t.notes)  # type: ignore[union-attr]
    for tier in (True, False):
        probs = [probability(t) for t in therapies if t.permitted is tier]
        assert probs == sorted(probs, reverse=True)


def test_a_model_that_prefers_contraindicated_drugs_still_cannot_rank_them_first(tmp_path: Path) -> None:
    """Train a real model on outcomes where avoid-flagged drugs work best; the ranking must not follow it."""
    rows = simulate_outcomes(KB, RB, 2500, seed=31, indications=["antiplatelet_pci"])
    states = [state_from_phenotypes(KB, r.patient_id, r.phenotypes, r.covariates.medications) for r in rows]
    data = build_dataset(KB, RB, rows, states)
    blocked = data.x[:, FEATURES.index("rule_contraindicated")] == 1
    assert blocked.sum() > 20
    data = type(data)(x=data.x, y=blocked.astype(int), groups=data.groups)  # perverse outcomes
    train(data, tmp_path, name="perverse", seed=0, folds=3, trained_on_outcomes=True, data_description="perverse")
    model = load_ranker(str(tmp_path / "perverse.skops"))
    state = state_from_phenotypes(KB, "PM", {"CYP2C19": "Poor Metabolizer"}, [])
    converted, flags = patient_flags(KB, RB, state, indication_drugs(KB)["antiplatelet_pci"])
    ranking = rank_therapies(KB, RB, "antiplatelet_pci", converted, flags, model=model)
    clop = next(t for t in ranking.therapies if t.drug == "clopidogrel")
    others = [t for t in ranking.therapies if t.drug != "clopidogrel"]
    assert probability(clop) > max(probability(t) for t in others)  # the model does prefer it...
    assert clop.rank == 3 and not clop.permitted  # ...and the rules still put it last
    assert ranking.label.startswith("trained on outcomes")


# ------------------------------------------------------------------ pgx ml train / evaluate


def test_train_on_simulated_outcomes_recovers_ranking(tmp_path: Path) -> None:
    for seed, n, name in ((11, 3000, "train.csv"), (12, 1500, "held.csv")):
        proc = run_pgx("ml", "simulate-outcomes", "-n", str(n), "--seed", str(seed), "-o", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
    proc = run_pgx("ml", "train", str(tmp_path / "train.csv"), "-o", str(tmp_path / "model"))
    assert proc.returncode == 0, proc.stderr
    assert "ROC AUC" in proc.stdout
    model = tmp_path / "model" / "therapy_ranker.skops"
    assert (tmp_path / "model" / "therapy_ranker.reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = read_card(model)
    assert card.trained_on_outcomes and card.metrics["cross_validation"]["grouped_by"] == "patient_id"
    assert "Known limits" in (tmp_path / "model" / "therapy_ranker.card.md").read_text()
    proc = run_pgx(
        "ml",
        "evaluate",
        str(model),
        str(tmp_path / "held.csv"),
        "-o",
        str(tmp_path / "m.json"),
        "--reliability",
        str(tmp_path / "held.png"),
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["n"] == 1500
    assert m["roc_auc"] > 0.62, m  # chance is 0.5; the generative model's own ceiling is about 0.69
    assert m["brier"] < m["brier_base_rate"] - 0.01, m
    assert (tmp_path / "held.png").read_bytes()[:4] == b"\x89PNG"


def test_train_from_vcf_samples(tmp_path: Path) -> None:
    """Outcomes that name samples of a VCF: pgx calls them, then trains."""
    rng = random.Random(5)
    alleles = ["*1", "*1", "*1", "*2", "*17", "*3"]
    specs = [
        SampleSpec(name=f"S{i:03d}", genes=[GeneSpec("CYP2C19", f"{rng.choice(alleles)}/{rng.choice(alleles)}")])
        for i in range(120)
    ]
    vcf = tmp_path / "cohort.vcf"
    vcf.write_text(simulate_vcf_text(KB, specs))
    from pgx.calling.pipeline import call_vcf

    called = {s.sample: s.genes for s in call_vcf(vcf, knowledge=KB).samples}
    rows = []
    for spec in specs:
        for drug in ("clopidogrel", "prasugrel"):
            state = apply_medications(KB, patient_state(spec.name, called[spec.name], []))
            p = response_probability(KB, RB, drug, state, PatientCovariates())
            rows.append(
                OutcomeRow(
                    patient_id=spec.name,
                    sample=spec.name,
                    drug=drug,
                    indication="antiplatelet_pci",
                    responded=rng.random() < p,
                    covariates=PatientCovariates(),
                )
            )
    (tmp_path / "outcomes.csv").write_text(outcomes_csv(rows))
    proc = run_pgx(
        "ml",
        "train",
        str(tmp_path / "outcomes.csv"),
        "--vcf",
        str(vcf),
        "--folds",
        "3",
        "-o",
        str(tmp_path / "m"),
        "--name",
        "site",
    )
    assert proc.returncode == 0, proc.stderr
    card = read_card(tmp_path / "m" / "site.skops")
    assert card.metrics["cross_validation"]["n"] == 240
    # the institution's model is then usable by the report, labelled as trained on outcomes
    pm = simulate_vcf(tmp_path / "pm.vcf", {"CYP2C19": "*2/*2"}, sample="P1")
    proc = run_pgx(
        "report",
        str(pm),
        "--indication",
        "antiplatelet",
        "--ranker-model",
        str(tmp_path / "m" / "site.skops"),
        "-f",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    ranking = json.loads(proc.stdout)["samples"][0]["therapy_ranking"]
    assert ranking["model"]["trained_on_outcomes"] and ranking["label"].startswith("trained on outcomes")


BAD_OUTCOMES = [
    ("patient_id,drug\nP1,clopidogrel\n", ":1: missing column(s) responded"),
    ("patient_id,drug,responded\nP1,clopidogrell,yes\n", ":2: column drug: unknown drug"),
    ("patient_id,drug,responded\nP1,clopidogrel,maybe\n", ":2: column responded"),
    ("patient_id,drug,responded,age\nP1,clopidogrel,yes,sixty\n", ":2: column age"),
    ("patient_id,drug,responded,age\nP1,clopidogrel,yes,300\n", ":2: column age"),
    ("patient_id,drug,responded,phenotypes\nP1,clopidogrel,yes,CYP2C99=Poor Metabolizer\n", ":2: column phenotypes"),
    ("patient_id,drug,responded,sample\nP1,clopidogrel,yes,NOPE\n", ":2: sample 'NOPE' is not in"),
    ("patient_id,drug,responded\n", "no outcome rows"),
]


@pytest.mark.parametrize("text,message", BAD_OUTCOMES)
def test_bad_outcomes_table(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    proc = run_pgx("ml", "train", str(path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and str(path) in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


# ------------------------------------------------------------------ the shipped prior and artifacts


def test_bundled_prior_matches_a_rebuild(tmp_path: Path) -> None:
    """The committed prior is what today's knowledge and rules produce (a stale prior fails here)."""
    card = build_prior(KB, RB, tmp_path)
    bundled = load_ranker()
    assert bundled.card.features == FEATURES and not bundled.card.trained_on_outcomes
    rebuilt = load_model(tmp_path / "therapy_ranker.skops", kind=KIND, predict=predict_proba)
    x = bundled.card.check_inputs_matrix()
    assert np.allclose(predict_proba(rebuilt.estimator, x), predict_proba(bundled.estimator, x), atol=1e-9), (
        "pgx/ml/artifacts/therapy_ranker is stale: run `pgx ml build-prior`"
    )
    held = card.metrics["holdout"]
    assert held["roc_auc"] > 0.65 and held["brier"] < held["brier_base_rate"]


def test_tampered_ranker_refused_by_report(tmp_path: Path) -> None:
    src = load_ranker().path
    for suffix in (".skops", ".card.yaml", ".card.md"):
        (tmp_path / f"r{suffix}").write_bytes(src.with_suffix(suffix).read_bytes())
    data = bytearray((tmp_path / "r.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "r.skops").write_bytes(bytes(data))
    vcf = simulate_vcf(tmp_path / "nm.vcf", {"CYP2C19": "*1/*1"})
    proc = run_pgx("report", str(vcf), "--indication", "antiplatelet", "--ranker-model", str(tmp_path / "r.skops"))
    assert proc.returncode == 2 and "SHA-256" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "phenotype,value",
    [
        ("Poor Metabolizer", 0.0),
        ("Likely Intermediate Metabolizer", 0.5),
        ("Normal Function", 1.0),
        ("Ultrarapid Metabolizer", 1.5),
        ("Rapid Metabolizer", 1.25),
        ("Possible Decreased Function", 0.75),
        ("Indeterminate", None),
    ],
)
def test_relative_function_from_phenotype_words(phenotype: str, value: float | None) -> None:
    assert relative_function(phenotype) == value


def test_simulated_outcomes_round_trip(tmp_path: Path) -> None:
    rows = simulate_outcomes(KB, RB, 50, seed=3)
    path = tmp_path / "o.csv"
    path.write_text(outcomes_csv(rows))
    from pgx.ml.outcomes import read_outcomes

    back = read_outcomes(path, KB)
    assert [r.model_dump() for r in back] == [r.model_dump() for r in rows]
    with open(path) as fh:
        assert next(csv.reader(fh))[:5] == ["patient_id", "sample", "drug", "indication", "responded"]


# ------------------------------------------------------------------ library errors name arguments, not flags


def test_library_errors_name_the_argument_and_leave_flags_to_the_cli(tmp_path: Path) -> None:
    from pgx.cli.common import FLAGS
    from pgx.errors import PatientFileError, UsageError
    from pgx.ml.outcomes import row_states
    from pgx.ml.ranker import Dataset, cross_validate

    few = Dataset(x=np.zeros((4, len(FEATURES))), y=np.array([0, 1, 0, 1]), groups=np.array(["a", "a", "b", "b"]))
    with pytest.raises(UsageError) as err:
        cross_validate(few, folds=5, seed=0)
    assert err.value.field == "folds" and "--" not in str(err.value)
    assert err.value.named(FLAGS).startswith("--folds: 2 patients cannot fill 5 cross-validation folds")

    row = OutcomeRow(patient_id="P1", sample="NOPE", drug="clopidogrel", responded=True, covariates=PatientCovariates())
    with pytest.raises(PatientFileError) as located:
        row_states(tmp_path / "o.csv", [row], KB, None)
    assert "sample 'NOPE' is not in the calls given" in str(located.value) and "--" not in str(located.value)
    assert "--vcf or --calls" in located.value.named(FLAGS)


def test_rule_features_follow_the_flag_levels() -> None:
    from pgx.ml.features import RULE_LEVELS
    from pgx.rules.outcome import FlagLevel

    assert all(isinstance(level, FlagLevel) for level in RULE_LEVELS)
    assert [f for f in FEATURES if f.startswith("rule_")] == [
        "rule_contraindicated",
        "rule_change",
        "rule_caution",
        "rule_cannot_assess",
    ]
