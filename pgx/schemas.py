"""JSON Schemas of pgx's file formats, generated from the pydantic models.

Editors use them to validate knowledge YAML as curators type; pipelines use the call-result
schema to validate what ``pgx call`` writes. ``tests/test_knowledge.py`` fails when a model
changes without the committed schema being regenerated (``pgx knowledge schema``).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from pgx.batch.models import BatchManifest
from pgx.calling.models import CallReport
from pgx.knowledge.curation import DrugCuration, KnowledgeCuration
from pgx.knowledge.schema import AnnotationKnowledge, DrugKnowledge, Gene, InteractionKnowledge, Manifest
from pgx.report.models import DrugReport
from pgx.rules.curation import RuleOverridesFile, RulesCurationFile
from pgx.rules.schema import RuleFile, RulesManifest, RuleTestFile

SCHEMAS: dict[str, type[BaseModel]] = {
    "knowledge-gene.schema.json": Gene,
    "knowledge-manifest.schema.json": Manifest,
    "knowledge-drugs.schema.json": DrugKnowledge,
    "knowledge-interactions.schema.json": InteractionKnowledge,
    "knowledge-annotations.schema.json": AnnotationKnowledge,
    "knowledge-curation.schema.json": KnowledgeCuration,
    "knowledge-drug-curation.schema.json": DrugCuration,
    "rules-file.schema.json": RuleFile,
    "rules-tests.schema.json": RuleTestFile,
    "rules-manifest.schema.json": RulesManifest,
    "rules-curation.schema.json": RulesCurationFile,
    "rules-overrides.schema.json": RuleOverridesFile,
    "call-result.schema.json": CallReport,
    "drug-report.schema.json": DrugReport,
    "batch-manifest.schema.json": BatchManifest,
}


def render(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = out / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written
