"""Load the knowledge base once per process, from the installed package or a given folder.

Schema errors are reported as ``file:line:column: message``. Loading is lazy (never at
import time) and cached, so a batch never re-reads YAML per sample.
"""

from __future__ import annotations

import functools
import importlib.resources
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pgx.errors import KnowledgeError
from pgx.knowledge.schema import AnnotationKnowledge, DrugKnowledge, Gene, InteractionKnowledge, Manifest
from pgx.yamlio import load_marked, validate_document

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

PACKAGE = "pgx.knowledge_base"


@dataclass(frozen=True, eq=False)  # hashed by identity: one loaded base, many caches
class KnowledgeBase:
    manifest: Manifest
    genes: dict[str, Gene]
    location: str
    drugs: DrugKnowledge | None = None
    interactions: InteractionKnowledge | None = None
    annotations: AnnotationKnowledge | None = None

    @property
    def version(self) -> str:
        return self.manifest.knowledge_version

    def gene(self, name: str) -> Gene:
        try:
            return self.genes[name]
        except KeyError:
            raise KnowledgeError(
                self.location, f"unknown gene {name!r}", hint=f"known: {', '.join(sorted(self.genes))}"
            ) from None

    def vcf_genes(self) -> list[Gene]:
        return [g for g in self.genes.values() if g.quirks.calling != "outside_only"]


def _read_dir(root: Path | Traversable, label: str) -> KnowledgeBase:
    manifest_file = root / "manifest.yaml"
    if not manifest_file.is_file():
        raise KnowledgeError(
            f"{label}/manifest.yaml", "knowledge manifest not found", hint="run `pgx knowledge build` or reinstall pgx"
        )
    manifest = validate_document(load_marked(f"{label}/manifest.yaml", manifest_file.read_text("utf-8")), Manifest)
    genes: dict[str, Gene] = {}
    for name in manifest.genes:
        f = root / "genes" / f"{name}.yaml"
        path = f"{label}/genes/{name}.yaml"
        if not f.is_file():
            raise KnowledgeError(path, "listed in manifest.yaml but missing")
        gene = validate_document(load_marked(path, f.read_text("utf-8")), Gene)
        if gene.gene != name:
            raise KnowledgeError(path, f"file declares gene {gene.gene!r}, expected {name!r}", line=1)
        genes[name] = gene
    extras: dict[str, object] = {}
    for key, filename, model in (
        ("drugs", "drugs.yaml", DrugKnowledge),
        ("interactions", "interactions.yaml", InteractionKnowledge),
        ("annotations", "annotations.yaml", AnnotationKnowledge),
    ):
        f = root / filename
        if f.is_file():
            extras[key] = validate_document(load_marked(f"{label}/{filename}", f.read_text("utf-8")), model)
    return KnowledgeBase(manifest=manifest, genes=genes, location=label, **extras)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=4)
def load_knowledge(path: str | None = None) -> KnowledgeBase:
    """The bundled knowledge base, or the one in folder ``path`` (for curators and tests)."""
    if path is not None:
        return _read_dir(Path(path), str(path))
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        # Running from a source checkout that shadows the installed package (python -m pgx
        # in the repository): the knowledge folder sits beside the package.
        checkout = Path(__file__).resolve().parents[2] / "knowledge"
        if not (checkout / "manifest.yaml").is_file():
            raise KnowledgeError("knowledge", "bundled knowledge base not found", hint="reinstall pgx") from None
        return _read_dir(checkout, "knowledge")
    return _read_dir(root, "knowledge")
