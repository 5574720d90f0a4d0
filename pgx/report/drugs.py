"""``pgx report``: gene calls -> phenoconversion -> rules -> per-drug flags with their evidence.

The result is a versioned pydantic model (``schemas/drug-report.schema.json``); HTML is a
rendering of it. Ambiguity travels through: tied diplotypes that lead to different actions
are shown as separate scenarios, and a gene that was not called makes its drugs "cannot
assess" rather than "standard".
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from pgx import __version__
from pgx.calling.pipeline import call_vcf
from pgx.errors import UsageError
from pgx.graph import EvidenceStep, atypical_genes, evidence_path, graph_for
from pgx.graph import alternatives as graph_alternatives
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.knowledge.schema import GuidelineLink
from pgx.ml.patient import PatientCovariates
from pgx.ml.results import DosePrediction, TherapyRanking
from pgx.phenotype.conversion import apply_medications, unconverted_genes
from pgx.report.models import CallReport, GeneCall, InputFile
from pgx.rules.engine import LEVEL_ORDER, DrugOutcome, drug_genes, evaluate, memo, result_key
from pgx.rules.loader import RuleBase, load_rules
from pgx.rules.patient import PatientState, patient_state
from pgx.rules.schema import ACTION_SEVERITY, LookupRule

if TYPE_CHECKING:  # scikit-learn is imported only when a model is used
    from pgx.ml.artifact import LoadedModel

REPORT_SCHEMA_VERSION = "1.2"  # 1.1: dose_predictions, therapy_ranking, options.indication/patient; 1.2: inputs


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Phenoconversion(_Out):
    gene: str
    genotype_phenotype: str | None
    phenotype: str | None
    activity_score: float | None = None
    medications: list[str]
    effect: str


class DrugFlag(DrugOutcome):
    alternatives: list[str] = Field(default_factory=list, description="Named by the rules that fired")
    class_alternatives: list[dict[str, str]] = Field(
        default_factory=list, description="Same class/indication, not dependent on an affected gene (drug-gene graph)"
    )
    evidence: list[list[EvidenceStep]] = Field(
        default_factory=list, description="Genotype -> phenotype (-> converted phenotype) -> pathway -> drug -> rule"
    )
    ambiguous: bool = False
    notes: list[str] = Field(default_factory=list, description="How the flag was decided, where it is not obvious")


class SampleReport(_Out):
    sample: str
    medications: list[str] = Field(default_factory=list)
    phenoconversions: list[Phenoconversion] = Field(default_factory=list)
    medication_warnings: list[str] = Field(default_factory=list)
    genes: list[GeneCall]
    drugs: list[DrugFlag]
    dose_predictions: list[DosePrediction] = Field(
        default_factory=list, description="Model-predicted doses (warfarin), beside the guideline's own rule"
    )
    therapy_ranking: TherapyRanking | None = Field(
        None, description="The indication's drugs, permitted first, ordered by predicted probability of response"
    )


class ReportOptions(_Out):
    drugs: list[str] | None = None
    medications: list[str] = Field(default_factory=list)
    missing_to_ref: bool = False
    indication: str | None = None
    patient: InputFile | None = Field(None, description="The --patient covariate file (name and SHA-256)")


class DrugReport(_Out):
    schema_version: str = REPORT_SCHEMA_VERSION
    pgx_version: str
    knowledge_version: str
    rules_version: str
    input: InputFile
    inputs: list[InputFile] = Field(
        default_factory=list, description="Every VCF read, when pgx batch joined several; `input` is the first"
    )
    outside_calls: InputFile | None = None
    options: ReportOptions
    samples: list[SampleReport]


def _conversions(state: PatientState) -> list[Phenoconversion]:
    out = []
    for gene, result in sorted(state.genes.items()):
        for opt in result.options:
            if opt.conversion is not None:
                out.append(
                    Phenoconversion(
                        gene=gene,
                        genotype_phenotype=opt.conversion.genotype_phenotype,
                        phenotype=opt.phenotype,
                        activity_score=opt.activity_score,
                        medications=list(opt.conversion.perpetrators),
                        effect=opt.conversion.effect,
                    )
                )
                break
    return out


def flag_drug(
    kb: KnowledgeBase, rb: RuleBase, state: PatientState, outcome: DrugOutcome, atypical: frozenset[str] | None = None
) -> DrugFlag:
    """The outcome (``evaluate_drug`` of this state) with its evidence and alternatives.

    A cohort repeats results, so patients with the same results for the drug's genes (and the
    same atypical genes, which decide the alternatives) share one flag.
    """
    g = graph_for(kb, rb)
    flagged = outcome.level in ("contraindicated", "change")  # only these are offered alternatives
    atypical = (atypical_genes(state) if atypical is None else atypical) if flagged else None
    key = ("flag", outcome.drug, kb.location, kb.version, result_key(state, drug_genes(rb, outcome.drug)), atypical)
    return memo(rb, key, lambda: _flag_drug(g, rb, state, outcome, atypical))  # type: ignore[no-any-return]


def _flag_drug(
    g: nx.MultiDiGraph, rb: RuleBase, state: PatientState, outcome: DrugOutcome, atypical: frozenset[str] | None
) -> DrugFlag:
    rules = {r.id: r for r in rb.rules_for(outcome.drug) if isinstance(r, LookupRule)}
    named: list[str] = []
    evidence: list[list[EvidenceStep]] = []
    for src in outcome.sources:
        for sc in src.scenarios:
            for applied in sc.rules:
                named.extend(applied.alternatives)
                rule = rules.get(applied.rule_id)
                path = evidence_path(g, _as_scenario(state, sc.choice), outcome.drug, rule) if rule is not None else []
                if path and path not in evidence:
                    evidence.append(path)
    ambiguous = any(s.status == "ambiguous" for s in outcome.sources)
    extra = graph_alternatives(g, outcome.drug, state, atypical) if atypical is not None else []
    # every list field given explicitly: a pydantic default_factory costs an inspect.signature per call
    return DrugFlag.model_construct(
        **{"notes": [], **dict(outcome)},
        alternatives=list(dict.fromkeys(named)),
        class_alternatives=extra,
        evidence=evidence,
        ambiguous=ambiguous,
    )


def _as_scenario(state: PatientState, choice: dict[str, int]) -> PatientState:
    """The patient with each tied gene narrowed to the candidate a scenario used (for its evidence path)."""
    if not choice:
        return state
    genes = dict(state.genes)
    for gene, i in choice.items():
        result = genes.get(gene)
        if result is not None and len(result.options) > 1:
            genes[gene] = result.model_copy(update={"options": (result.options[i],)})
    return state.model_copy(update={"genes": genes})


def _converted(state: PatientState, genes: list[str]) -> bool:
    return any(o.conversion is not None for g in genes for o in state.result(g).options)


def _severity(outcome: DrugOutcome) -> tuple[int, int]:
    """Smaller is more cautious: the flag level, then the action."""
    assessed = ("contraindicated", "change", "cannot_assess", "caution", "standard", "no_guideline")
    return assessed.index(outcome.level), ACTION_SEVERITY.get(outcome.action or "", 99)


def patient_flags(
    kb: KnowledgeBase, rb: RuleBase, state: PatientState, drugs: list[str] | None
) -> tuple[PatientState, list[DrugFlag]]:
    """The patient after phenoconversion, and one flag per drug (all drugs with rules when ``drugs`` is None).

    A function of the patient's results alone, so the report, the re-ranker and its training
    cohort all judge a drug the same way.
    """
    converted = apply_medications(kb, state)
    flags = []
    atypical = atypical_genes(converted)
    for outcome in evaluate(rb, converted, drugs):
        seen_as, seen_atypical = converted, atypical
        notes: list[str] = []
        if outcome.drug in converted.medications:
            # A perpetrator's own guideline dosing already reflects its effect on its enzyme:
            # judge a medication the patient takes without the conversion it causes itself.
            others = tuple(m for m in state.medications if m != outcome.drug)
            seen_as = apply_medications(kb, state.model_copy(update={"medications": others}))
            if _converted(converted, drug_genes(rb, outcome.drug)) != _converted(seen_as, drug_genes(rb, outcome.drug)):
                notes.append(
                    f"Judged without {outcome.drug}'s own effect on its enzymes: its guideline already reflects it."
                )
            outcome = evaluate(rb, seen_as, [outcome.drug])[0]
            seen_atypical = atypical_genes(seen_as)
        if seen_as is not state and _converted(seen_as, drug_genes(rb, outcome.drug)):
            # Co-medication may make a result look more benign (an inducer on a normal metabolizer,
            # an inhibitor on an ultrarapid one); the report never ends less cautious than the genotype.
            genotype_only = evaluate(rb, state, [outcome.drug])[0]
            if _severity(genotype_only) < _severity(outcome):
                notes.append(
                    f"Judged on the genotype result: with the co-medication the converted phenotype "
                    f"would give {outcome.action or outcome.level}, which is less cautious."
                )
                outcome, seen_as, seen_atypical = genotype_only, state, atypical_genes(state)
        flag = flag_drug(kb, rb, seen_as, outcome, seen_atypical)
        flags.append(flag.model_copy(update={"notes": notes}) if notes else flag)
    flags = _uncovered(kb, rb, converted, flags, explicit=drugs is not None)
    flags.sort(key=lambda f: (LEVEL_ORDER.index(f.level), f.drug))
    return converted, flags


def sample_report(
    kb: KnowledgeBase,
    rb: RuleBase,
    sample: str,
    calls: list[GeneCall],
    medications: list[str],
    drugs: list[str] | None,
    *,
    indication: str | None = None,
    covariates: PatientCovariates | None = None,
    ranker: LoadedModel | None = None,
) -> SampleReport:
    state = patient_state(sample, calls, medications)
    converted, flags = patient_flags(kb, rb, state, drugs)
    doses = _dose_predictions(state, covariates) if any(f.drug in DOSE_MODELS for f in flags) else []
    ranking = None
    if indication is not None:
        from pgx.ml.ranker import rank_therapies  # the ML layer reads this module's flags

        ranking = rank_therapies(kb, rb, indication, converted, flags, covariates, ranker)
    warnings = unknown_medications(kb, rb, list(converted.medications))
    warnings += [
        f"{', '.join(meds)} affect {gene}, which was not called: no phenoconversion applied"
        for gene, meds in unconverted_genes(kb, converted).items()
    ]
    return SampleReport(
        sample=sample,
        medications=list(converted.medications),
        phenoconversions=_conversions(converted),
        medication_warnings=warnings,
        genes=calls,
        drugs=flags,
        dose_predictions=doses,
        therapy_ranking=ranking,
    )


DOSE_MODELS = ("warfarin",)


def _dose_predictions(state: PatientState, covariates: PatientCovariates | None) -> list[DosePrediction]:
    """The warfarin model's dose beside the CPIC algorithm rule. A model that cannot be used is
    reported as such on the prediction, never allowed to take the guideline flags down with it."""
    from pgx.errors import PgxError

    if covariates is None:
        return [
            DosePrediction(
                drug="warfarin",
                status="not_predicted",
                reason="no patient covariates: give --patient with age, height_cm and weight_kg",
            )
        ]
    from pgx.ml.warfarin import predict_dose

    try:
        return predict_dose(state, covariates)
    except PgxError as exc:
        return [DosePrediction(drug="warfarin", status="not_predicted", reason=f"dose model unavailable: {exc}")]


def uncovered_guidelines(kb: KnowledgeBase, rb: RuleBase) -> dict[str, list[GuidelineLink]]:
    """Drugs with a published CPIC level A guideline for a gene pgx calls, but no rules in the rule base yet."""
    out: dict[str, list[GuidelineLink]] = {}
    for d in kb.drugs.drugs if kb.drugs else []:
        links = [g for g in d.guidelines if g.url and g.gene in kb.genes and (g.cpic_level or "").startswith("A")]
        if links and not rb.rules_for(d.name):
            out[d.name] = links
    return out


def _uncovered(
    kb: KnowledgeBase, rb: RuleBase, state: PatientState, flags: list[DrugFlag], explicit: bool
) -> list[DrugFlag]:
    """Never let "no rule in pgx" read as "no guideline": such drugs are flagged cannot assess when the
    patient's result for their gene is not normal (or was asked for by name)."""
    missing = memo(rb, ("uncovered", kb.location, kb.version), lambda: uncovered_guidelines(kb, rb))
    if not missing:
        return flags
    out = [f for f in flags if f.drug not in missing]
    asked = {f.drug for f in flags}
    for drug, links in sorted(missing.items()):
        relevant = [g for g in links if not state.result(g.gene).called or g.gene in atypical_genes(state)]
        if (explicit and drug in asked) or (not explicit and relevant):
            why = [
                f"CPIC has a guideline for {g.gene} ({g.url}) that pgx does not encode yet; consult it" for g in links
            ]
            out.append(
                DrugFlag(drug=drug, level="cannot_assess", genes=sorted({g.gene for g in links}), not_assessed=why)
            )
    return out


def unknown_medications(kb: KnowledgeBase, rb: RuleBase, medications: list[str]) -> list[str]:
    """A misspelt inhibitor would silently leave a phenotype unconverted: name every medication
    pgx does not know, with the closest known name."""
    known = set(rb.drugs) | ({d.name for d in kb.drugs.drugs} if kb.drugs else set())
    if kb.interactions is not None:
        known |= {p.drug for p in kb.interactions.perpetrators}
    out = []
    for med in medications:
        if med in known:
            continue
        close = difflib.get_close_matches(med, sorted(known), n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        out.append(
            f"medication {med!r} is not in pgx's drug or interaction knowledge{hint}: "
            "no phenoconversion or interaction was considered for it"
        )
    return out


def _check_drugs(rb: RuleBase, kb: KnowledgeBase, drugs: list[str] | None) -> list[str] | None:
    if drugs is None:
        return None
    known = set(rb.drugs) | ({d.name for d in kb.drugs.drugs} if kb.drugs else set())
    names = [d.strip().lower() for d in drugs if d.strip()]
    unknown = [d for d in names if d not in known]
    if unknown:
        raise UsageError(f"unknown drug {unknown[0]!r}", hint="`pgx rules list` shows the drugs with rules")
    return names


def report_from_calls(
    calls: CallReport,
    *,
    medications: list[str] | None = None,
    drugs: list[str] | None = None,
    knowledge: KnowledgeBase | None = None,
    rules: RuleBase | None = None,
    indication: str | None = None,
    patient: PatientCovariates | None = None,
    patient_file: InputFile | None = None,
    ranker: LoadedModel | None = None,
    memo: dict[object, SampleReport] | None = None,
) -> DrugReport:
    """Flags for every sample; with ``indication``, the re-ranked therapies; with ``patient``
    covariates (one sample only), the warfarin dose model uses them.

    ``memo`` lets a batch share work between samples with the same calls (the same GeneCall
    objects) and medications: a sample's report depends on nothing else but its name. The
    memo must not outlive the calls it was filled with (it is keyed by their identity)."""
    kb = knowledge or load_knowledge()
    rb = rules or load_rules()
    wanted = _check_drugs(rb, kb, drugs)
    meds = [m.strip().lower() for m in medications or [] if m.strip()]
    if patient is not None:
        if len(calls.samples) != 1:
            raise UsageError(
                f"--patient describes one patient but the input has {len(calls.samples)} samples",
                hint="choose one with --sample",
            )
        meds = list(dict.fromkeys(meds + patient.medications))
    if indication is not None:
        from pgx.ml.indications import indication_drugs, resolve_indication

        indication = resolve_indication(kb, indication)
        if wanted is not None:
            wanted = list(dict.fromkeys(wanted + indication_drugs(kb)[indication]))
    return DrugReport(
        pgx_version=__version__,
        knowledge_version=kb.version,
        rules_version=rb.version,
        input=calls.input,
        inputs=calls.inputs,
        outside_calls=calls.outside_calls,
        options=ReportOptions(
            drugs=wanted,
            medications=meds,
            missing_to_ref=calls.options.missing_to_ref,
            indication=indication,
            patient=patient_file,
        ),
        samples=[
            _sample_report(kb, rb, s.sample, s.genes, meds, wanted, indication, patient, ranker, memo)
            for s in calls.samples
        ],
    )


def _sample_report(
    kb: KnowledgeBase,
    rb: RuleBase,
    sample: str,
    calls: list[GeneCall],
    meds: list[str],
    drugs: list[str] | None,
    indication: str | None,
    patient: PatientCovariates | None,
    ranker: LoadedModel | None,
    memo: dict[object, SampleReport] | None,
) -> SampleReport:
    if memo is None or patient is not None:
        return sample_report(
            kb, rb, sample, calls, meds, drugs, indication=indication, covariates=patient, ranker=ranker
        )
    key = (tuple(map(id, calls)), tuple(meds), tuple(drugs or ()), indication, id(ranker))
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = sample_report(kb, rb, sample, calls, meds, drugs, indication=indication, ranker=ranker)
    return hit if hit.sample == sample else hit.model_copy(update={"sample": sample})


def report_vcf(
    vcf: str | Path,
    *,
    samples: list[str] | None = None,
    outside_calls: str | Path | None = None,
    medications: list[str] | None = None,
    drugs: list[str] | None = None,
    missing_to_ref: bool = False,
    knowledge: KnowledgeBase | None = None,
    rules: RuleBase | None = None,
    indication: str | None = None,
    patient: str | Path | None = None,
    ranker: LoadedModel | None = None,
) -> DrugReport:
    kb = knowledge or load_knowledge()
    covariates, patient_file = None, None
    if patient is not None:
        from pgx.ml.patient import load_patient
        from pgx.vcf.reader import sha256_file

        covariates = load_patient(patient)  # checked before the (slower) calling
        patient_file = InputFile(name=Path(patient).name, sha256=sha256_file(patient), format="yaml")
    calls = call_vcf(vcf, samples=samples, outside_calls=outside_calls, missing_to_ref=missing_to_ref, knowledge=kb)
    return report_from_calls(
        calls,
        medications=medications,
        drugs=drugs,
        knowledge=kb,
        rules=rules,
        indication=indication,
        patient=covariates,
        patient_file=patient_file,
        ranker=ranker,
    )
