"""``/v1/genes`` and ``/v1/rules/version``: which knowledge base and which rules the service calls with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

import pgx
from pgx.knowledge.loader import load_knowledge
from pgx.service.core import ServiceDep, need
from pgx.service.db import User

router = APIRouter(tags=["knowledge"])


class GeneView(BaseModel):
    gene: str
    chromosome: str | None
    alleles: int


class GenesView(BaseModel):
    knowledge_version: str
    genes: list[GeneView]


class RulesVersionView(BaseModel):
    pgx_version: str
    knowledge_version: str
    rules_version: str
    ruleset_id: int | None = Field(None, description="Uploaded rule set in use; null: the rules shipped with pgx")


@router.get("/v1/genes", response_model=GenesView)
def genes(_: Annotated[User, Depends(need("info"))]) -> GenesView:
    kb = load_knowledge()
    return GenesView(
        knowledge_version=kb.version,
        genes=[
            GeneView(gene=g.gene, chromosome=getattr(g, "chromosome", None), alleles=len(g.named_alleles))
            for g in kb.genes.values()
        ],
    )


@router.get("/v1/rules/version", response_model=RulesVersionView)
def rules_version(_: Annotated[User, Depends(need("info"))], svc: ServiceDep) -> RulesVersionView:
    rs, version = svc.active_rules()
    return RulesVersionView(
        pgx_version=pgx.__version__,
        knowledge_version=load_knowledge().version,
        rules_version=version,
        ruleset_id=rs.id if rs else None,
    )
