"""Typed curation: what ``pgx knowledge build`` adds to the source tables, validated on load.

Two files sit beside the knowledge base: ``knowledge/curation.yaml``
(:class:`KnowledgeCuration`: gene quirks, genes only outside calls or PyPGx's tables define,
the knowledge revision) and ``knowledge/drug_curation.yaml`` (:class:`DrugCuration`: each
gene's role for each drug, indications, drugs the tables lack). A misspelt key, a duplicate
key or a wrong-typed value is a :class:`~pgx.errors.KnowledgeError` at file:line:column,
never silently dropped; :class:`Curated` keeps the YAML's marks so that the importer's later
checks (an entry naming a gene, drug or allele the sources do not have) name the line too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, StringConstraints, model_validator

from pgx.errors import KnowledgeError
from pgx.knowledge.schema import (
    CopyNumber,
    LinkedVariantRule,
    Pathway,
    PathwayRole,
    Quirks,
    VariantFallback,
)
from pgx.model import Model
from pgx.yamlio import Located, read_validated, validate_text


def _as_quirk(name: str) -> Any:
    """The default and description of :class:`Quirks` field ``name`` (one wording for both models)."""
    field = Quirks.model_fields[name]
    if field.default_factory is not None:
        return Field(default_factory=field.default_factory, description=field.description)
    return Field(field.default, description=field.description)


# ------------------------------------------------------------------------- curation.yaml


class CuratedQuirks(Model):
    """The :class:`~pgx.knowledge.schema.Quirks` a curator sets for a gene.

    The others (required positions, ignored alleles, extra positions, unphased priorities)
    are PharmCAT's (``exemptions.json``) and ``undocumented_as_reference`` is the top-level
    list, so each fact has one place to be said. Only keys given here reach the gene file.
    """

    calling: Literal["diplotype", "lowest_function", "outside_only"] = _as_quirk("calling")
    ploidy: Literal["autosomal", "x_linked", "mitochondrial"] = _as_quirk("ploidy")
    linked_variants: list[LinkedVariantRule] = _as_quirk("linked_variants")
    variant_fallback: VariantFallback | None = _as_quirk("variant_fallback")
    copy_number: CopyNumber | None = _as_quirk("copy_number")
    function_order: list[str] = _as_quirk("function_order")
    caveats: list[str] = _as_quirk("caveats")

    def given(self) -> dict[str, Any]:
        """The quirks this entry states, by field name (values as validated)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name in self.model_fields_set}


class CuratedGene(Model):
    """An entry under ``genes:``: a gene PharmCAT's definitions define."""

    quirks: CuratedQuirks = Field(default_factory=CuratedQuirks, description="Quirks merged into the gene file")
    tie_break_alleles: list[str] = Field(
        default_factory=list,
        description="Lowest-function genes: named alleles preferred, in this order, between variants of equal"
        " function (written to the gene file as tie_break_rank 0, 1, ...)",
    )


class PypgxGeneEntry(Model):
    """An entry under ``pypgx_genes:``: a gene built from PyPGx's tables (no PharmCAT definition)."""

    quirks: CuratedQuirks = Field(default_factory=CuratedQuirks, description="Quirks merged into the gene file")


class OutsideOnlyGene(Model):
    """An entry under ``outside_only:``: a gene with no VCF definition, called from outside calls only."""

    chromosome: str = Field(description="Chromosome, as the gene files write it (chr6, chrM)")
    status_alleles: list[str] | None = Field(
        None, description="Phenotype by allele status: these alleles are reported positive or negative (HLA)"
    )
    phenotype_file: str | None = Field(
        None, description="Phenotype by haplotype: PharmCAT phenotype file (under pharmcat/phenotype/) to read"
    )

    @model_validator(mode="after")
    def _one_method(self) -> OutsideOnlyGene:
        if (self.status_alleles is None) == (self.phenotype_file is None):
            raise ValueError("give exactly one of status_alleles and phenotype_file")
        if self.status_alleles is not None and not self.status_alleles:
            raise ValueError("status_alleles is empty")
        return self


class KnowledgeCuration(Model):
    """``knowledge/curation.yaml``: curated facts the imported gene tables do not carry."""

    knowledge_revision: int = Field(
        1, ge=1, description="Raised whenever a curated change alters the gene files; the knowledge version's suffix"
    )
    undocumented_as_reference: list[str] = Field(
        default_factory=list,
        description="Genes whose undocumented ALT alleles are read as reference with a warning (reference tool)",
    )
    genes: dict[str, CuratedGene] = Field(
        default_factory=dict, description="Quirks and tie-breaks of genes PharmCAT's definitions define"
    )
    outside_only: dict[str, OutsideOnlyGene] = Field(
        default_factory=dict, description="Genes called only from outside calls (no VCF definition in the sources)"
    )
    pypgx_genes: dict[str, PypgxGeneEntry] = Field(
        default_factory=dict, description="Genes no PharmCAT definition covers, built from PyPGx's tables"
    )


# -------------------------------------------------------------------- drug_curation.yaml

AtcCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]\d\d[A-Z]{2}\d\d$")]


class Indication(Model):
    """A use that several drugs share, so that one can be offered as another's alternative."""

    id: str = Field(description="Key drugs name it by")
    label: str = Field(description="What the report shows")


class CuratedDrug(Model):
    """An entry under ``drugs:`` (lowercase generic name, spelt as the tables spell it)."""

    atc: list[AtcCode] = Field(
        default_factory=list,
        description="WHO ATC codes (level 5), only for drugs pypgx/cpic-table.csv lacks or gives none for",
    )
    indications: list[str] = Field(description="Ids from the top-level indications list ([] for none)")
    pathways: list[Pathway] = Field(
        description="Each pharmacogene's role for the drug, with its citation ([] means no pharmacogene guideline)"
    )


class DrugCuration(Model):
    """``knowledge/drug_curation.yaml``: what the drug tables lack (roles, indications, alternatives)."""

    indications: list[Indication] = Field(default_factory=list, description="Indications drugs may name")
    drugs: dict[str, CuratedDrug] = Field(default_factory=dict, description="Curated drugs by name")

    def roles(self) -> dict[tuple[str, str], PathwayRole]:
        """(drug, gene) -> the gene's pathway role for the drug."""
        return {(name, p.gene): p.role for name, drug in self.drugs.items() for p in drug.pathways}


# ---------------------------------------------------------------------------- loading

M = TypeVar("M", bound=BaseModel)
Curated = Located
"""A validated curation document that can still name the line of any of its entries (:class:`pgx.yamlio.Located`)."""


def read_curated(path: str | Path, model: type[M]) -> Located[M]:
    """Parse and validate one curation file: YAML syntax, duplicate keys, then the model; an empty file is an
    empty curation."""
    return read_validated(str(path), str(path), model, KnowledgeError)


def as_curated(data: Located[M] | Mapping[str, Any], model: type[M], label: str) -> Located[M]:
    """Curation given in code (a mapping) as if read from a file named ``label``."""
    if isinstance(data, Located):
        return data
    return validate_text(label, yaml.safe_dump(dict(data), sort_keys=False), model, KnowledgeError)


def load_curation(path: str | Path) -> KnowledgeCuration:
    """``knowledge/curation.yaml``, validated."""
    return read_curated(path, KnowledgeCuration).value


def load_drug_curation(path: str | Path) -> DrugCuration:
    """``knowledge/drug_curation.yaml``, validated (``.roles()`` gives (drug, gene) -> role)."""
    return read_curated(path, DrugCuration).value
