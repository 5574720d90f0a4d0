"""The curated decisions ``pgx rules build`` merges into the imported rules, as typed models.

``rules/curation.yaml`` holds the curation (phenotype dialects, excluded rows, alternatives,
strengths, added rules, overrides, the warfarin algorithm); every ``rules/overrides*.yaml``
beside it holds reviewed corrections of single rules (``id_overrides``). Both are validated
here, so a misspelt key or a wrong-typed value is a :class:`~pgx.errors.RuleError` at
file:line:column instead of a silently ignored entry. :func:`load_curation` reads and merges
them; each override keeps the place it was written, so the build can name the line of an
entry that matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from pgx.errors import RuleError
from pgx.knowledge.schema import ScoreRange
from pgx.model import Model
from pgx.rules.schema import Action, AlleleStatus, Citation, LookupRule, Source, Strength, WarfarinDosingRule
from pgx.yamlio import Located, MarkedDocument, read_validated

if TYPE_CHECKING:
    from importlib.abc import Traversable

CURATION_FILE = "curation.yaml"
OVERRIDES_GLOB = "overrides*.yaml"

TableSource = Literal["CPIC", "DPWG"]
"""The guideline sources the imported tables carry rows for."""


class PhenotypeCriterion(Model):
    """What a source's wording means in pgx's knowledge: exactly one criterion of a gene condition."""

    phenotypes: list[str] | None = Field(None, description="pgx phenotype names of the gene (any of them)")
    activity_score: ScoreRange | None = Field(None, description="An activity-score interval")
    allele_status: AlleleStatus | None = Field(None, description="Carrier (or not) of one allele, e.g. HLA-B*57:01")
    diplotypes: list[str] | None = Field(None, description="Diplotype names in pgx's knowledge (any of them)")
    not_tested: bool = Field(False, description="The wording means the gene was not tested")

    @model_validator(mode="after")
    def _one(self) -> PhenotypeCriterion:
        given = [self.phenotypes, self.activity_score, self.allele_status, self.diplotypes]
        if sum(x is not None for x in given) + int(self.not_tested) != 1:
            raise ValueError("give exactly one of phenotypes, activity_score, allele_status, diplotypes, not_tested")
        return self

    def criteria(self) -> dict[str, Any]:
        """The criterion as keyword arguments of :class:`~pgx.rules.schema.GeneCondition` (besides ``gene``)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ExcludedRow(Model):
    """A source row left out on purpose; ``pgx rules coverage`` lists it as excluded with the reason."""

    table: str = Field(description="Source table, as in a rule's provenance (e.g. pypgx/recommendation-table.csv)")
    row: str = Field(description="Row within the table, as in a rule's provenance (e.g. 'line 248', 'ID 70')")
    reason: str = Field(description="Why the row is left out (shown by `pgx rules coverage`)")


class StrengthEntry(Model):
    """The recommendation strength a guideline states for its actionable rules of one drug and gene."""

    drug: str = Field(description="Drug, lower case as in the rule files")
    source: TableSource = Field(description="Guideline source whose rules get the strength")
    gene: str = Field(description="A gene of the rule's condition")
    strength: Strength = Field(description="Strength given to the drug's rules other than standard dosing / no data")


class RuleMatch(Model):
    """Which imported rules an override applies to, when not named by id."""

    drug: str = Field(description="A drug of the rule")
    source: Source = Field(description="The rule's guideline source")
    allele: str | None = Field(None, description="Only rules with an allele-status condition on this allele")
    positive: bool = Field(True, description="With ``allele``: the carrier (true) or non-carrier (false) rule")


def _about(name: str) -> str:
    """The description of a rule field, for the override field that sets it."""
    return f"Sets the rule's `{name}`" + (f": {d}" if (d := LookupRule.model_fields[name].description) else "")


class RuleUpdate(Model):
    """The rule fields an override may set, typed as the :class:`~pgx.rules.schema.LookupRule` fields they set.

    Only the keys given are changed; ``null`` clears a field that may be empty (``dose_factor``,
    ``dose_factor_range``, ``strength``, ``guideline``, ``version``).
    """

    action: Action | None = Field(None, description=_about("action"))
    dose_factor: float | None = Field(None, description=_about("dose_factor"))
    dose_factor_range: list[float] | None = Field(
        None, min_length=2, max_length=2, description=_about("dose_factor_range")
    )
    strength: Strength | None = Field(None, description=_about("strength"))
    alternatives: list[str] | None = Field(None, description=_about("alternatives"))
    rationale: str | None = Field(None, description=_about("rationale"))
    guideline: str | None = Field(None, description=_about("guideline"))
    version: str | None = Field(None, description=_about("version"))
    citation: Citation | None = Field(None, description=_about("citation"))

    @field_validator("action", "alternatives", "rationale", "citation", mode="before")
    @classmethod
    def _required_on_rules(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("a rule must have this field; it cannot be set to null")
        return value

    @model_validator(mode="after")
    def _something(self) -> RuleUpdate:
        if not self.model_fields_set:
            raise ValueError("an override must set at least one rule field")
        return self

    def updates(self) -> dict[str, Any]:
        """The fields given, for ``LookupRule.model_copy(update=...)``."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class RuleOverride(Model):
    """A curated correction of imported rules: by rule ``id`` or by ``match``, with what to ``set``."""

    id: str | None = Field(None, description="The id of the one rule to change")
    match: RuleMatch | None = Field(None, description="Every imported rule these criteria select")
    set: RuleUpdate = Field(description="The rule fields to change and their new values")
    reason: str | None = Field(None, description="Why (reviewed corrections say why; curation.yaml uses comments)")

    @model_validator(mode="after")
    def _one_selector(self) -> RuleOverride:
        if (self.id is None) == (self.match is None):
            raise ValueError("give exactly one of id, match")
        return self

    def applies_to(self, rule: LookupRule) -> bool:
        """Whether this override changes ``rule``: its id, or its drug, source and allele status."""
        if self.id is not None:
            return self.id == rule.id
        m = self.match
        if m is None or m.drug not in rule.drugs or m.source != rule.source:
            return False
        statuses = [(c.allele_status.allele, c.allele_status.positive) for c in rule.condition if c.allele_status]
        return m.allele is None or (m.allele, m.positive) in statuses

    def describe(self) -> str:
        if self.match is None:
            return f"override of {self.id!r}"
        m = self.match
        allele = f" {m.allele} {'positive' if m.positive else 'negative'}" if m.allele is not None else ""
        return f"override of {m.source} {m.drug}{allele}"


class WarfarinCuration(Model):
    """CPIC's warfarin dosing flowchart (PMID 28198005), written as the warfarin_dosing rule."""

    algorithms: list[str] = Field(description=WarfarinDosingRule.model_fields["algorithms"].description)
    cyp4f2_increase: list[float] = Field(description=WarfarinDosingRule.model_fields["cyp4f2_increase"].description)
    african_cyp2c9_decrease: list[float] = Field(
        description=WarfarinDosingRule.model_fields["african_cyp2c9_decrease"].description
    )
    african_cyp2c9_alleles: list[str] = Field(description="CYP2C9 alleles the African-ancestry decrease is for")
    african_rs12777823_decrease: list[float] = Field(
        description=WarfarinDosingRule.model_fields["african_rs12777823_decrease"].description
    )
    rs12777823_position: int = Field(description="GRCh38 position of rs12777823 on chromosome 10")


class RulesCurationFile(Model):
    """``rules/curation.yaml``: the curated decisions ``pgx rules build`` merges into the imported rules."""

    rules_revision: int = Field(1, description="The manifest's rules_version is 1.<rules_revision>")
    phenotype_aliases: dict[str, dict[str, PhenotypeCriterion]] = Field(
        default_factory=dict, description="gene -> a source's exact phenotype wording -> what it means in pgx"
    )
    phenotype_prefixes: dict[str, dict[str, PhenotypeCriterion]] = Field(
        default_factory=dict, description="gene -> start of a source's phenotype wording -> what it means in pgx"
    )
    excluded_rows: list[ExcludedRow] = Field(default_factory=list, description="Source rows left out on purpose")
    not_covered_genes: list[str] = Field(
        default_factory=list, description="Genes pgx does not call; their rows are reported as not covered"
    )
    likely_phenotypes_for: list[TableSource] = Field(
        default_factory=list, description="Sources whose rule for a phenotype also covers its 'Likely' form"
    )
    reference_phenotypes: dict[TableSource, list[str]] = Field(
        default_factory=dict,
        description="source -> phenotypes it means 'no action' for; a standard-dosing rule is written for each",
    )
    alternatives: dict[str, list[str]] = Field(
        default_factory=dict, description="drug -> alternatives its guideline names in words, added to avoid rules"
    )
    same_rules_as: dict[str, str] = Field(
        default_factory=dict, description="drug -> the drug whose rules it gets (a class-wide guideline)"
    )
    added_rules: list[LookupRule] = Field(
        default_factory=list, description="Rules the tables do not carry, written in full by curators"
    )
    citations: dict[str, Citation] = Field(
        default_factory=dict, description="'SOURCE drug' -> citation, for rows whose table gives none"
    )
    strengths: list[StrengthEntry] = Field(
        default_factory=list, description="Recommendation strengths the guidelines state (first match wins)"
    )
    overrides: list[RuleOverride] = Field(default_factory=list, description="Corrections of imported rules")
    warfarin: WarfarinCuration | None = Field(None, description="CPIC warfarin flowchart (needed by `pgx rules build`)")


class RuleOverridesFile(Model):
    """``rules/overrides*.yaml``: reviewed corrections of single imported rules, applied after curation.yaml's."""

    id_overrides: list[RuleOverride] = Field(default_factory=list, description="One entry per corrected rule")


T = TypeVar("T")


@dataclass(frozen=True)
class RulesCuration:
    """curation.yaml and the overrides*.yaml beside it, validated and merged."""

    file: RulesCurationFile
    document: MarkedDocument
    overrides: tuple[Located[RuleOverride], ...] = ()
    """curation.yaml's ``overrides``, then each overrides file's ``id_overrides`` (files in name order)."""

    def at(self, *loc: str | int) -> Located[None]:
        """The place of the curation.yaml entry reached by ``loc`` (keys and list positions)."""
        return Located(None, self.document, loc, RuleError)

    @classmethod
    def empty(cls) -> RulesCuration:
        """No curation at all (a rules folder without curation.yaml, and none bundled)."""
        return cls(RulesCurationFile(), MarkedDocument(CURATION_FILE, {}, ""))


def load_curation(rules_dir: Path | Traversable, label: str | None = None) -> RulesCuration:
    """Read ``curation.yaml`` and every ``overrides*.yaml`` of a rules folder (``label`` names it in errors).

    A key no model knows, a value of the wrong type or a YAML syntax error is a RuleError at
    file:line:column.
    """

    def name(entry: str) -> str:
        return f"{label}/{entry}" if label is not None else str(Path(str(rules_dir)) / entry)

    main = read_validated(rules_dir.joinpath(CURATION_FILE), name(CURATION_FILE), RulesCurationFile, RuleError)
    overrides = [main.at("overrides", i).holding(o) for i, o in enumerate(main.value.overrides)]
    extra_files = sorted(
        (p for p in rules_dir.iterdir() if Path(p.name).match(OVERRIDES_GLOB) and p.is_file()), key=lambda p: p.name
    )
    for extra in extra_files:
        reviewed = read_validated(extra, name(extra.name), RuleOverridesFile, RuleError)
        overrides += [reviewed.at("id_overrides", i).holding(o) for i, o in enumerate(reviewed.value.id_overrides)]
    return RulesCuration(main.value, main.document, tuple(overrides))
