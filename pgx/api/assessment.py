"""Stages 2-4 as library calls: calls -> patient -> flags (-> ranking, dose) -> DrugReport.

``assess`` gives the same report from a CallReport read back from JSON as from the VCF it
came from: it depends on the calls document only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pgx import __version__
from pgx.api.calls import call, read_calls
from pgx.calling.models import CallReport, GeneCall, InputFile
from pgx.errors import PgxError, UsageError
from pgx.fileio import sha256_file
from pgx.flags.decide import patient_flags
from pgx.flags.names import check_drugs, unknown_medications
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.ml.results import DosePrediction, TherapyRanking
from pgx.patient.conversion import unconverted_genes
from pgx.patient.covariates import PatientCovariates, load_patient
from pgx.patient.state import PatientState, patient_state
from pgx.report.models import DrugReport, Phenoconversion, ReportOptions, SampleReport
from pgx.rules.loader import RuleBase, load_rules

if TYPE_CHECKING:  # scikit-learn is imported only when a model is used
    from pgx.ml.artifact import LoadedModel


def rank(
    calls: CallReport,
    indication: str,
    *,
    medications: list[str] | None = None,
    knowledge: KnowledgeBase | None = None,
    rules: RuleBase | None = None,
    patient: PatientCovariates | None = None,
    ranker: LoadedModel | None = None,
) -> dict[str, TherapyRanking]:
    """The indication's drugs for each sample, permitted first, ordered by predicted response."""
    report = assess(
        calls, medications=medications, drugs=[], knowledge=knowledge, rules=rules, indication=indication,
        patient=patient, ranker=ranker,
    )  # fmt: skip
    return {s.sample: s.therapy_ranking for s in report.samples if s.therapy_ranking is not None}


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
        from pgx.ml.ranker import rank_therapies  # scikit-learn: loaded only when a ranking is asked for

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
    if covariates is None:
        return [
            DosePrediction(
                drug="warfarin",
                status="not_predicted",
                reason="no patient covariates: give --patient with age, height_cm and weight_kg",
            )
        ]
    from pgx.ml.warfarin import predict_dose  # scikit-learn: loaded only when a dose is predicted

    try:
        return predict_dose(state, covariates)
    except PgxError as exc:
        return [DosePrediction(drug="warfarin", status="not_predicted", reason=f"dose model unavailable: {exc}")]


def assess(
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
    wanted = check_drugs(rb, kb, drugs)
    meds = [m.strip().lower() for m in medications or [] if m.strip()]
    if patient is not None:
        if len(calls.samples) != 1:
            raise UsageError(
                f"describes one patient but the input has {len(calls.samples)} samples",
                hint="choose one with {sample}",
                field="patient",
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


def assess_vcf(
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
    """``pgx report VCF``: call, then assess. The patient file is checked before the (slower) calling."""
    kb = knowledge or load_knowledge()
    covariates, patient_file = _patient_file(patient)
    calls = call(vcf, samples=samples, outside_calls=outside_calls, missing_to_ref=missing_to_ref, knowledge=kb)
    return assess(
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


def assess_calls(
    path: str | Path,
    *,
    samples: list[str] | None = None,
    medications: list[str] | None = None,
    drugs: list[str] | None = None,
    knowledge: KnowledgeBase | None = None,
    rules: RuleBase | None = None,
    indication: str | None = None,
    patient: str | Path | None = None,
    ranker: LoadedModel | None = None,
) -> DrugReport:
    """``pgx report --calls calls.json``: the same report as from the VCF the calls were made from."""
    covariates, patient_file = _patient_file(patient)
    calls = select_samples(read_calls(path), samples)
    return assess(
        calls,
        medications=medications,
        drugs=drugs,
        knowledge=knowledge,
        rules=rules,
        indication=indication,
        patient=covariates,
        patient_file=patient_file,
        ranker=ranker,
    )


def select_samples(calls: CallReport, samples: list[str] | None) -> CallReport:
    """The calls of the named samples only, in the order named (all of them for None)."""
    if not samples:
        return calls
    by_name = {s.sample: s for s in calls.samples}
    unknown = [s for s in samples if s not in by_name]
    if unknown:
        shown = ", ".join(list(by_name)[:5]) + (", ..." if len(by_name) > 5 else "")
        raise UsageError(f"{unknown[0]!r} is not in the calls", hint=f"samples: {shown}", field="sample")
    return calls.model_copy(update={"samples": [by_name[s] for s in dict.fromkeys(samples)]})


def _patient_file(patient: str | Path | None) -> tuple[PatientCovariates | None, InputFile | None]:
    if patient is None:
        return None, None
    covariates = load_patient(patient)
    return covariates, InputFile(name=Path(patient).name, sha256=sha256_file(patient), format="yaml")
