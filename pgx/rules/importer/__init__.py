"""``pgx rules build``: guideline tables -> ``rules/<drug>.yaml`` in pgx's rule schema.

Sources: PyPGx's CPIC recommendation table (one row per drug and phenotype combination, two
genes where CPIC combines them), PAnno's guideline table (CPIC and DPWG rows from PharmGKB),
and PyPGx's CPIC gene–drug table for citations. For each drug, CPIC rules come from the PyPGx
table when it has the drug (it carries CPIC's multi-gene combinations), otherwise from PAnno;
DPWG rules come from PAnno. Each row's phenotype text is mapped onto pgx's knowledge; its
recommendation becomes an action from a fixed vocabulary, a dose fraction when one is
stated, alternatives, and a rationale written by pgx (no guideline prose is copied).

The package, by job: ``sources`` (tables -> rows), ``conditions`` (wording -> gene
conditions), ``classification`` (action, dose, alternatives, strength), ``wording`` (pgx's
rationale and rule ids), ``rows`` (one row -> one rule, overrides applied), ``derived``
(rules made from other rules), ``usage`` (curation entries that match nothing are refused),
``build`` (the orchestration), ``writing`` (rule files, manifest, seeded tests) and
``roles`` (pathway roles for the wording). The curation itself is :mod:`pgx.rules.curation`.
"""

from pgx.rules.importer.build import build_rules
from pgx.rules.importer.classification import classify_action, dose_fraction
from pgx.rules.importer.conditions import ConditionMapper, known_phenotypes
from pgx.rules.importer.roles import load_roles
from pgx.rules.importer.rows import Builder, ImportLog
from pgx.rules.importer.sources import (
    CPIC_TABLE,
    PANNO_TABLE,
    PYPGX_TABLE,
    SOURCES,
    SourceRow,
    excluded_rows,
    imported_rows,
    read_source_rows,
)
from pgx.rules.importer.usage import CurationUse, unmatched_entries
from pgx.rules.importer.wording import describe_condition, rationale
from pgx.rules.importer.writing import seed_tests, write_rules

__all__ = [
    "CPIC_TABLE",
    "PANNO_TABLE",
    "PYPGX_TABLE",
    "SOURCES",
    "Builder",
    "ConditionMapper",
    "CurationUse",
    "ImportLog",
    "SourceRow",
    "build_rules",
    "classify_action",
    "describe_condition",
    "dose_fraction",
    "excluded_rows",
    "imported_rows",
    "known_phenotypes",
    "load_roles",
    "rationale",
    "read_source_rows",
    "seed_tests",
    "unmatched_entries",
    "write_rules",
]
