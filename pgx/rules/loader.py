"""Load the rule base once per process: bundled (``pgx.rules_base``) or from a folder.

The version every report carries is the manifest's declared version plus a digest of the
rule files' content, so an edited rule base can never pass for the one it was copied from.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pgx.errors import RuleError
from pgx.rules.schema import LookupRule, RuleFile, RulesManifest, RuleTestFile, WarfarinDosingRule
from pgx.yamlio import load_marked, validate_document

if TYPE_CHECKING:
    from importlib.abc import Traversable

PACKAGE = "pgx.rules_base"
_CACHE_LIMIT = 200_000
T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class RuleBase:
    manifest: RulesManifest
    files: dict[str, RuleFile]  # drug -> file
    paths: dict[str, str]  # drug -> path shown in messages
    tests: dict[str, RuleTestFile]
    digest: str
    location: str
    by_drug: dict[str, list[LookupRule | WarfarinDosingRule]] = field(default_factory=dict)
    memo: dict[object, object] = field(default_factory=dict, repr=False)  # per-rule-base caches of the engine

    def cached(self, key: object, make: Callable[[], T]) -> T:
        """Values derived from the rules (and from results a cohort repeats) are built once per rule base.

        The cache belongs to the rule base, so a new or edited rule base never sees another's values; it is
        emptied when it holds more than ``_CACHE_LIMIT`` entries (a cohort of many distinct results).
        """
        try:
            return self.memo[key]  # type: ignore[return-value]
        except KeyError:
            if len(self.memo) > _CACHE_LIMIT:
                self.memo.clear()
            value = self.memo[key] = make()
            return value

    @property
    def version(self) -> str:
        return f"{self.manifest.rules_version}+{self.digest[:10]}"

    def rules_for(self, drug: str) -> list[LookupRule | WarfarinDosingRule]:
        return self.by_drug.get(drug.lower(), [])

    @property
    def drugs(self) -> list[str]:
        return sorted(self.by_drug)


def _read(root: Path | Traversable, label: str) -> RuleBase:
    mf = root / "manifest.yaml"
    if not mf.is_file():
        raise RuleError(
            f"{label}/manifest.yaml", "rules manifest not found", hint="run `pgx rules build` or reinstall pgx"
        )
    text = mf.read_text("utf-8")
    manifest = validate_document(load_marked(f"{label}/manifest.yaml", text), RulesManifest, RuleError)
    h = hashlib.sha256()
    files: dict[str, RuleFile] = {}
    paths: dict[str, str] = {}
    for drug in manifest.drugs:
        f = root / f"{_filename(drug)}.yaml"
        path = f"{label}/{_filename(drug)}.yaml"
        if not f.is_file():
            raise RuleError(path, f"listed in manifest.yaml for drug {drug!r} but missing")
        body = f.read_text("utf-8")
        h.update(path.encode() + b"\0" + body.encode())
        rf = validate_document(load_marked(path, body), RuleFile, RuleError)
        if rf.drug != drug:
            raise RuleError(path, f"file declares drug {rf.drug!r}, expected {drug!r}", line=1)
        files[drug] = rf
        paths[drug] = path
    tests: dict[str, RuleTestFile] = {}
    tdir = root / "tests"
    if tdir.is_dir():
        for t in sorted(tdir.iterdir(), key=lambda p: p.name):
            if t.name.endswith(".yaml"):
                path = f"{label}/tests/{t.name}"
                tests[path] = validate_document(load_marked(path, t.read_text("utf-8")), RuleTestFile, RuleError)
    by_drug: dict[str, list[LookupRule | WarfarinDosingRule]] = defaultdict(list)
    for rf in files.values():
        for rule in rf.rules:
            for d in rule.drugs:
                by_drug[d.lower()].append(rule)
    return RuleBase(
        manifest=manifest,
        files=files,
        paths=paths,
        tests=tests,
        digest=h.hexdigest(),
        location=label,
        by_drug=dict(by_drug),
    )


def _filename(drug: str) -> str:
    """Rule file name for a drug ("hormonal contraceptives for systemic use" -> underscores)."""
    return drug.lower().replace(" ", "_").replace("/", "-")


@functools.lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> RuleBase:
    if path is not None:
        return _read(Path(path), str(path))
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / "rules"
        if not (checkout / "manifest.yaml").is_file():
            raise RuleError("rules", "bundled rule base not found", hint="reinstall pgx") from None
        return _read(checkout, "rules")
    return _read(root, "rules")


filename_for = _filename
