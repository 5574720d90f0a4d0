"""pgx's own schema for gene knowledge, validated on load and exported as JSON Schema.

One YAML file per gene (``knowledge/genes/<GENE>.yaml``) plus ``knowledge/manifest.yaml``.
Positions are GRCh38, 1-based, VCF-style (indels anchored on the preceding base).
Gene quirks are fields here, so code never branches on a gene's name.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pgx.model import Model

SCHEMA_VERSION = 1

IUPAC: dict[str, frozenset[str]] = {
    "A": frozenset("A"),
    "C": frozenset("C"),
    "G": frozenset("G"),
    "T": frozenset("T"),
    "R": frozenset("AG"),
    "Y": frozenset("CT"),
    "S": frozenset("GC"),
    "W": frozenset("AT"),
    "K": frozenset("GT"),
    "M": frozenset("AC"),
    "B": frozenset("CGT"),
    "D": frozenset("AGT"),
    "H": frozenset("ACT"),
    "V": frozenset("ACG"),
    "N": frozenset("ACGT"),
}


def is_wobble(allele: str) -> bool:
    return len(allele) == 1 and allele in IUPAC and len(IUPAC[allele]) > 1


class Grch37Locus(Model):
    """Where the same variant sits on GRCh37 (from PyPGx's variant table), for later liftover."""

    position: int
    ref: str
    alts: list[str]


class RefContext(Model):
    """Reference bases from ``start`` on, enough to left-align indels written in other shapes.

    Derived from the definition's own REF and HGVS (repeat unit and 3'-most position).
    """

    start: int
    sequence: str


class Position(Model):
    position: int = Field(description="GRCh38 1-based VCF position")
    rsid: str | None = None
    ref: str
    alts: list[str]
    hgvs: str | None = None
    grch37: Grch37Locus | None = None
    context: RefContext | None = None
    tier1: bool = Field(False, description="AMP tier-1 position: warn loudly when missing")


class NamedAllele(Model):
    name: str
    id: str | None = None
    reference: bool = False
    function: str | None = None
    activity_value: float | None = Field(
        None, description="Activity value; null means not assigned (n/a) for activity-score genes"
    )
    function_source: str | None = Field(
        None, description="Where function/activity came from when not the primary source, or why assumed"
    )
    alleles: dict[int, str] = Field(
        default_factory=dict,
        description="Defining alleles by GRCh38 position; a position not listed means same as reference."
        " Single-letter IUPAC wobble codes are allowed.",
    )
    tie_break_rank: int | None = Field(
        None, description="Lowest-function genes: lower ranks win between variants of equal function"
    )


class FunctionPairRule(Model):
    """A pair (or, for hemizygous calls, a single) of allele functions and the phenotype it gives."""

    functions: list[str] = Field(min_length=1, max_length=2)
    phenotype: str


SCORE_TOLERANCE = 1e-9
"""Activity scores are sums of values such as 0.25: compare them with this slack, never exactly."""


class ScoreRange(Model):
    """Inclusive activity-score interval; null bound means open."""

    min: float | None = None
    max: float | None = None

    def contains(self, score: float) -> bool:
        return (self.min is None or score >= self.min - SCORE_TOLERANCE) and (
            self.max is None or score <= self.max + SCORE_TOLERANCE
        )


class ScoreRule(ScoreRange):
    """An activity-score interval and the phenotype it gives."""

    phenotype: str


class Phenotyping(Model):
    method: Literal["function_pair", "activity_score", "allele_status", "haplotype", "none"]
    function_pairs: list[FunctionPairRule] = Field(default_factory=list)
    score_ranges: list[ScoreRule] = Field(default_factory=list)
    haplotype_phenotypes: dict[str, str] = Field(
        default_factory=dict, description="method 'haplotype' (haploid genes such as MT-RNR1): allele -> phenotype"
    )
    status_alleles: list[str] = Field(
        default_factory=list, description="method 'allele_status': alleles reported as positive/negative"
    )
    indeterminate: str = Field("Indeterminate", description="Phenotype when no rule applies")

    @model_validator(mode="after")
    def _rules_present(self) -> Phenotyping:
        if self.method == "function_pair" and not self.function_pairs:
            raise ValueError("method function_pair needs function_pairs")
        if self.method == "activity_score" and not self.score_ranges:
            raise ValueError("method activity_score needs score_ranges")
        if self.method == "allele_status" and not self.status_alleles:
            raise ValueError("method allele_status needs status_alleles")
        return self


class UnphasedPriority(Model):
    """When unphased data tie between exactly these diplotypes, call ``pick`` (frequency-based)."""

    alternatives: list[str]
    pick: str


class LinkedVariantRule(Model):
    """An allele defined by two positions where one of them is authoritative (DPYD HapB3).

    ``authoritative_position`` decides; ``supporting_position`` is used only when the
    authoritative one is missing. ``authoritative_only_allele`` is the allele called when the
    authoritative variant is present without the supporting one.
    """

    allele: str
    authoritative_position: int
    supporting_position: int
    authoritative_only_allele: str


class VariantFallback(Model):
    """When no diplotype can be called, infer one from a single key variant (SLCO1B1 rs4149056)."""

    position: int
    ref_allele_name: str
    alt_allele_name: str


class CopyNumber(Model):
    """Genes whose copy number can be read from symbolic SV records (CYP2D6)."""

    deletion_allele: str = Field(description="Allele name for a whole-gene deletion, e.g. *5 (a structural allele)")
    max_copies_label: int = Field(3, description="Copy counts at or above this are written x≥N")


class StructuralAllele(Model):
    """An allele defined by structure (deletion, hybrid, tandem part), not by positions.

    Never matched from SNVs; known so that copy-number records and outside calls naming it
    get its function and activity value.
    """

    name: str
    function: str | None = None
    activity_value: float | None = None
    source: str | None = None


class Quirks(Model):
    """How one gene departs from plain diplotype matching; each field switches on one behaviour.

    Most come from PharmCAT's ``exemptions.json``; the rest from ``knowledge/curation.yaml``
    (see :class:`pgx.knowledge.curation.CuratedQuirks`).
    """

    calling: Literal["diplotype", "lowest_function", "outside_only"] = Field(
        "diplotype",
        description="diplotype: named-allele matching; lowest_function: the least functional variant per strand"
        " (DPYD, RYR1); outside_only: no VCF definition, called from outside calls only",
    )
    ploidy: Literal["autosomal", "x_linked", "mitochondrial"] = Field(
        "autosomal", description="x_linked: hemizygous genotypes allowed (G6PD); mitochondrial: haploid"
    )
    undocumented_as_reference: bool = Field(
        False, description="An ALT not in the definition is read as reference (with a warning) instead of no-call"
    )
    required_positions: list[int] = Field(
        default_factory=list, description="If any is missing for a sample the gene is not called"
    )
    ignored_alleles: list[str] = Field(
        default_factory=list, description="Named alleles kept for reference but never called"
    )
    extra_positions: list[Position] = Field(
        default_factory=list, description="Reported with the gene but not used to call it (e.g. rs12777823)"
    )
    unphased_priorities: list[UnphasedPriority] = Field(
        default_factory=list, description="Frequency-based picks between diplotypes unphased data cannot separate"
    )
    linked_variants: list[LinkedVariantRule] = Field(
        default_factory=list, description="Alleles whose two positions are not equal evidence (DPYD HapB3)"
    )
    variant_fallback: VariantFallback | None = Field(
        None, description="When no diplotype can be called, infer one from this single variant"
    )
    copy_number: CopyNumber | None = Field(None, description="Read copy number from symbolic SV records")
    function_order: list[str] = Field(
        default_factory=list,
        description="Lowest-function genes without activity values: functions from most to least severe",
    )
    caveats: list[str] = Field(default_factory=list, description="Short notes attached to every VCF call")


class Region(Model):
    start: int
    end: int


class Gene(Model):
    schema_version: Literal[1] = 1
    gene: str
    chromosome: str
    strand: Literal["+", "-"] | None = None
    build: Literal["GRCh38"] = "GRCh38"
    region: Region | None = None
    grch37_region: Region | None = None
    definition_version: str | None = None
    positions: list[Position] = Field(default_factory=list)
    named_alleles: list[NamedAllele] = Field(default_factory=list)
    structural_alleles: list[StructuralAllele] = Field(default_factory=list)
    phenotyping: Phenotyping
    quirks: Quirks = Field(default_factory=Quirks)

    @model_validator(mode="after")
    def _consistent(self) -> Gene:
        positions = {p.position: p for p in self.positions}
        if len(positions) != len(self.positions):
            raise ValueError("duplicate position in positions")
        names = [a.name for a in self.named_alleles]
        if len(set(names)) != len(names):
            raise ValueError("duplicate named allele")
        if self.quirks.calling != "outside_only":
            refs = [a for a in self.named_alleles if a.reference]
            if len(refs) != 1:
                raise ValueError(f"exactly one reference allele required, found {len(refs)}")
            missing = [p for p in positions if p not in refs[0].alleles]
            if missing:
                raise ValueError(f"reference allele must define every position; missing {missing[:5]}")
        for allele in self.named_alleles:
            for pos, base in allele.alleles.items():
                if pos not in positions:
                    raise ValueError(f"allele {allele.name} defines unknown position {pos}")
                locus = positions[pos]
                if base not in (locus.ref, *locus.alts) and not (is_wobble(base)):
                    raise ValueError(f"allele {allele.name} at {pos}: {base!r} is neither REF, an ALT nor IUPAC")
        for pos in self.quirks.required_positions:
            if pos not in positions:
                raise ValueError(f"required position {pos} is not among positions")
        structural = {a.name for a in self.structural_alleles}
        if structural & set(names):
            raise ValueError(f"structural alleles also defined by positions: {sorted(structural & set(names))}")
        cn = self.quirks.copy_number
        if cn is not None and cn.deletion_allele not in structural:
            raise ValueError(f"deletion allele {cn.deletion_allele} must be listed in structural_alleles")
        for name in self.quirks.ignored_alleles:
            if name not in names:
                raise ValueError(f"ignored allele {name!r} is not among named_alleles")
        return self


class Source(Model):
    name: str
    version: str | None = None
    commit: str | None = None
    license: str | None = None
    files: list[str] = Field(default_factory=list)


class Manifest(Model):
    schema_version: Literal[1] = 1
    knowledge_version: str
    build: Literal["GRCh38"] = "GRCh38"
    sources: list[Source]
    genes: list[str]


# ---------------------------------------------------------------------------------- drugs

PathwayRole = Literal[
    "activation",  # the gene's product forms the active drug (prodrugs: clopidogrel/CYP2C19, codeine/CYP2D6)
    "clearance_major",  # main route of elimination or inactivation
    "clearance_minor",
    "transport",  # uptake or efflux transporter (SLCO1B1, ABCG2)
    "immune",  # hypersensitivity association (HLA)
    "target",  # the drug acts on the gene product or its pathway (VKORC1, CFTR, G6PD, RYR1)
    "other",
]


class Pathway(Model):
    gene: str
    role: PathwayRole
    source: str | None = Field(None, description="Citation (URL or PMID) for the role")


class GuidelineLink(Model):
    gene: str
    cpic_level: str | None = None
    pharmgkb_level: str | None = None
    fda_label: str | None = None
    url: str | None = None
    pmids: list[str] = Field(default_factory=list)


class Drug(Model):
    name: str
    rxnorm: str | None = None
    atc: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list, description="ATC level-4 classes (first five characters)")
    indications: list[str] = Field(default_factory=list)
    pathways: list[Pathway] = Field(default_factory=list)
    guidelines: list[GuidelineLink] = Field(default_factory=list)


class DrugKnowledge(Model):
    schema_version: Literal[1] = 1
    drugs: list[Drug]

    @model_validator(mode="after")
    def _unique(self) -> DrugKnowledge:
        names = [d.name for d in self.drugs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate drugs: {sorted(dup)}")
        return self


# ------------------------------------------------------------------------- phenoconversion

Strength = Literal["strong", "moderate", "weak"]


class Perpetrator(Model):
    """A co-medication that inhibits or induces a pharmacogene's product."""

    drug: str
    gene: str
    effect: Literal["inhibitor", "inducer"]
    strength: Strength
    source: str = Field(description="Id of an entry in `sources`")


class ConversionEffect(Model):
    """What one kind of perpetrator does to the phenotype the rules see."""

    activity_factor: float | None = Field(None, description="Multiply the activity score (activity-score genes)")
    set_phenotype: str | None = Field(None, description="Replace the phenotype with this one")
    steps: int | None = Field(None, description="Move along the gene's phenotype ladder (negative: less function)")

    @model_validator(mode="after")
    def _one(self) -> ConversionEffect:
        if sum(x is not None for x in (self.activity_factor, self.set_phenotype, self.steps)) != 1:
            raise ValueError("give exactly one of activity_factor, set_phenotype, steps")
        return self


class ScoreBand(Model):
    """Upper edge of a phenotype band for converted (non-grid) activity scores."""

    max: float | None = Field(description="Upper edge; null = no upper limit")
    inclusive: bool = True
    phenotype: str

    def holds(self, score: float) -> bool:
        """Below the edge, or on it when the edge is inclusive."""
        if self.max is None or score < self.max - SCORE_TOLERANCE:
            return True
        return self.inclusive and abs(score - self.max) <= SCORE_TOLERANCE


class GeneConversion(Model):
    gene: str
    ladder: list[str] = Field(default_factory=list, description="Phenotypes from least to most function")
    score_bands: list[ScoreBand] = Field(
        default_factory=list,
        description="Continuous bands for scores a multiplied score can take between the genotype grid's "
        "ranges (first band whose edge holds the score wins); empty = the gene's score ranges",
    )
    effects: dict[str, ConversionEffect] = Field(
        description="Keys: '<strength>_<effect>', e.g. strong_inhibitor, moderate_inducer"
    )


class CitedSource(Model):
    id: str
    title: str
    url: str | None = None
    version: str | None = None


class InteractionKnowledge(Model):
    schema_version: Literal[1] = 1
    sources: list[CitedSource]
    conversions: list[GeneConversion]
    perpetrators: list[Perpetrator]

    @model_validator(mode="after")
    def _sources_known(self) -> InteractionKnowledge:
        ids = {s.id for s in self.sources}
        for p in self.perpetrators:
            if p.source not in ids:
                raise ValueError(f"perpetrator {p.drug}/{p.gene} cites unknown source {p.source!r}")
        return self


# ------------------------------------------------------------------- clinical annotations

AnnotationCategory = Literal["efficacy", "toxicity", "dosage", "metabolism", "other"]
EvidenceLevel = Literal["1A", "1B", "2A", "2B", "3"]
Direction = Literal["decreased", "increased", "normal", "mixed"]


class ClinicalAnnotation(Model):
    """One PharmGKB clinical annotation, reduced to what a patient's phenotype says about it.

    ``effects`` maps a phenotype (as the annotation's genotypes translate) to the direction of
    the annotated outcome for that phenotype: a poor metabolizer's clopidogrel *efficacy*
    "decreased". Genotype rows that disagree for the same phenotype read "mixed".
    """

    id: str = Field(description="PharmGKB clinical annotation ID")
    drug: str
    gene: str
    category: AnnotationCategory
    level: EvidenceLevel
    pmids: int = Field(0, description="Number of publications behind the annotation")
    effects: dict[str, Direction]


class AnnotationKnowledge(Model):
    schema_version: Literal[1] = 1
    source: str = Field(description="Where the annotations come from, with its version")
    annotations: list[ClinicalAnnotation]
