"""The curation files of the rule base, typed: rules/curation.yaml and rules/overrides*.yaml.

A misspelt key or a wrong-typed value in either file is a one-line RuleError at its
file:line:column; a curation entry that matches no rule or no source row fails the build at
the entry's line. Broken copies of the shipped files are used, never the files themselves.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import pytest

from pgx.errors import RuleError
from pgx.knowledge.loader import KnowledgeBase
from pgx.rules.coverage import _curation
from pgx.rules.curation import RuleOverridesFile, RulesCurationFile, RuleUpdate, load_curation
from pgx.rules.importer import build_rules
from pgx.rules.loader import load_rules
from pgx.rules.schema import LookupRule
from tests.conftest import REPO, needs_shared, run_pgx

RULES = REPO / "rules"
CURATION_FILES = ["curation.yaml", *sorted(p.name for p in RULES.glob("overrides*.yaml"))]


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(RULES, dst, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return dst


def _inject(path: Path, old: str, new: str) -> tuple[int, int]:
    """Replace the first ``old`` by ``new``; the 1-based line and column where ``new`` starts."""
    text = path.read_text()
    assert old in text, (path, old)
    start = text.index(old)
    path.write_text(text.replace(old, new, 1))
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


# (file, text in it, its broken form, the broken part whose position the error names, message); a misspelt
# key is named at the key itself
MISSPELT = {
    "curation.yaml": (
        "    set: {dose_factor: 0.67}",
        "    set: {dose_factr: 0.67}",
        "dose_factr",
        "set.dose_factr: Extra",
    ),
    "overrides_review.yaml": (
        '  - id: "atazanavir.cpic.ugt1a1-normal-metabolizer"\n    set: {action: standard_dosing}\n    reason:',
        '  - id: "atazanavir.cpic.ugt1a1-normal-metabolizer"\n    set: {action: standard_dosing}\n    raeson:',
        "raeson",
        "id_overrides.0.raeson: Extra",
    ),
}
WRONG_TYPE = {
    "curation.yaml": (
        "    set: {dose_factor: 0.67}",
        "    set: {dose_factor: two thirds}",
        "two thirds",
        "valid number",
    ),
    "overrides_review.yaml": (
        "    set: {action: reduce_dose, dose_factor: 0.5}",
        "    set: {action: reduce_dose, dose_factor: [0.5]}",
        "[0.5]",
        "id_overrides.10.set.dose_factor: Input should be a valid number",
    ),
}


def _position_of(path: Path, new: str, part: str) -> tuple[int, int]:
    """1-based line and column of ``part`` within the injected ``new`` text."""
    text = path.read_text()
    start = text.index(part, text.index(new))
    return text.count("\n", 0, start) + 1, start - (text.rfind("\n", 0, start) + 1) + 1


@pytest.mark.parametrize("name", CURATION_FILES)
@pytest.mark.parametrize("case", [MISSPELT, WRONG_TYPE], ids=["misspelt-key", "wrong-type"])
def test_a_bad_entry_is_a_one_line_error_at_its_place(
    rules_copy: Path, name: str, case: dict[str, tuple[str, str, str, str]]
) -> None:
    old, new, part, message = case[name]
    path = rules_copy / name
    _inject(path, old, new)
    line, column = _position_of(path, new, part)
    with pytest.raises(RuleError) as info:
        load_curation(rules_copy)
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), line, column), str(err)
    assert message in str(err) and "\n" not in str(err)
    assert str(err).startswith(f"{path}:{line}:{column}: ")


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("curation.yaml", "rules_revision: 1", "rules_revison: 1", "rules_revison: Extra inputs"),
        ("curation.yaml", "likely_phenotypes_for: [DPWG]", "likely_phenotypes_for: [DWPG]", "likely_phenotypes_for.0"),
        ("curation.yaml", "rs12777823_position: 94645745", "rs12777823_position: near", "rs12777823_position"),
        ("curation.yaml", "    set: {action: monitor}", "    set: {action: watch}", "set.action: Input should be"),
        ("curation.yaml", "    set: {action: monitor}", "    set: {action: null}", "cannot be set to null"),
        ("curation.yaml", "    set: {action: monitor}", "    set: {}", "must set at least one rule field"),
        (
            "curation.yaml",
            "  - {drug: abacavir, source: CPIC,",
            "  - {drug: abacavir, source: FDA,",
            "strengths.0.source",
        ),
        (
            "overrides_review.yaml",
            "set: {dose_factor_range: null}",
            "set: {dose_factor_range: [1]}",
            "at least 2 items",
        ),
        ("overrides_review.yaml", "set: {alternatives: []}", "set: {alternative: []}", "set.alternative: Extra"),
        ("overrides_review.yaml", "set: {alternatives: []}", "set: {id: other.rule}", "set.id: Extra"),
        ("overrides_review.yaml", "id_overrides:", "id_override:", "id_override: Extra inputs"),
    ],
)
def test_more_bad_entries_are_refused_at_their_line(
    rules_copy: Path, name: str, old: str, new: str, message: str
) -> None:
    path = rules_copy / name
    line, _ = _inject(path, old, new)
    with pytest.raises(RuleError) as info:
        load_curation(rules_copy)
    assert info.value.path == str(path) and message in str(info.value), str(info.value)
    assert info.value.line in (line, line + 1) and "\n" not in str(info.value)  # a block value starts below its key


def test_the_shipped_curation_loads_and_keeps_the_override_order() -> None:
    cur = load_curation(RULES)
    curation_yaml = RulesCurationFile.model_validate(_yaml(RULES / "curation.yaml"))
    reviewed = [RuleOverridesFile.model_validate(_yaml(RULES / n)) for n in CURATION_FILES[1:]]
    expected = [*curation_yaml.overrides, *(o for f in reviewed for o in f.id_overrides)]
    assert [o.value for o in cur.overrides] == expected
    assert len(expected) >= len(curation_yaml.overrides) + 138
    assert cur.overrides[0].document.path.endswith("curation.yaml")
    assert cur.overrides[-1].where().startswith(str(RULES / CURATION_FILES[-1]))


def _yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text())


def _not_none(annotation: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if get_origin(annotation) in (Union, UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007 - built from a tuple
    return annotation


def test_an_override_sets_only_lookup_rule_fields_with_their_types() -> None:
    rule_fields = LookupRule.model_fields
    for name, info in RuleUpdate.model_fields.items():
        assert name in rule_fields, name
        assert _not_none(info.annotation) == _not_none(rule_fields[name].annotation), name
        assert info.metadata == rule_fields[name].metadata, name  # the same length limits
    assert not {"id", "kind", "drugs", "source", "condition"} & set(RuleUpdate.model_fields)


def test_the_build_command_refuses_a_bad_curation_file_in_one_line(rules_copy: Path, tmp_path: Path) -> None:
    path = rules_copy / "overrides_review.yaml"
    line, _ = _inject(path, "set: {action: monitor}", "set: {action: monitr}")
    proc = run_pgx("rules", "build", "--source", str(tmp_path / "no-data-needed"), "--out", str(rules_copy))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"pgx: error: {path}:{line}:") and proc.stderr.count("\n") == 1, proc.stderr


def test_coverage_reads_the_curation_with_the_same_loader(rules_copy: Path) -> None:
    line, _ = _inject(rules_copy / "curation.yaml", "not_covered_genes: [CYP2C8]", "not_covered_gene: [CYP2C8]")
    with pytest.raises(RuleError, match=rf"curation.yaml:{line}:\d+: not_covered_gene: Extra"):
        _curation(load_rules(str(rules_copy)))


# ---------------------------------------------------------------------------------- dead entries

UNMATCHED = {
    "curation.yaml": (
        "  - id: doxepin.cpic.cyp2c19-normal-metabolizer+cyp2d6-not-tested",
        "  - id: doxepin.cpic.cyp2c19-normal-metabolizer+cyp2d6-not-tsted",
        "override of 'doxepin.cpic.cyp2c19-normal-metabolizer+cyp2d6-not-tsted' matches no imported rule",
    ),
    "overrides_review.yaml": (
        '  - id: "tamoxifen.cpic.cyp2d6-normal-metabolizer"',
        '  - id: "tamoxifen.dpwg.cyp2d6-normal-metabolizer"',
        "override of 'tamoxifen.dpwg.cyp2d6-normal-metabolizer' matches no imported rule",
    ),
}


@needs_shared
@pytest.mark.parametrize("name", CURATION_FILES)
def test_an_override_matching_no_rule_fails_the_build_at_its_line(
    rules_copy: Path, kb: KnowledgeBase, shared: Path, name: str
) -> None:
    old, new, message = UNMATCHED[name]
    path = rules_copy / name
    line, column = _inject(path, old, new)
    with pytest.raises(RuleError) as info:
        build_rules(kb, shared / "data", load_curation(rules_copy), {})
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), line, column + len("  - ")), str(err)
    assert message in str(err) and "\n" not in str(err)


@needs_shared
def test_every_kind_of_dead_entry_is_named_by_its_line(rules_copy: Path, kb: KnowledgeBase, shared: Path) -> None:
    path = rules_copy / "curation.yaml"
    # an entry that matches nothing, inserted below the line starting with the key
    added = {
        "  - match: {drug: abacavir, source: DPWG,": (
            "  - match: {drug: abacavir, source: CPNDS}\n    set: {strength: none}"
        ),
        "excluded_rows:": "  - {table: pypgx/recommendation-table.csv, row: line 9249, reason: no such row}",
        "  clopidogrel: [prasugrel, ticagrelor]": "  ibuprofen: [celecoxib]",  # no ibuprofen row says avoid
        "citations:": "  DPWG ribavirin: {pmids: ['24096968']}",  # no DPWG ribavirin rows
        "  ribostamycin: amikacin": "  arbekacin: amikacine",  # no rules to copy
        "strengths:": "  - {drug: codeine, source: CPIC, gene: CYP2D6, strength: moderate}",  # shadows the later one
        "  CYP2D6:": "    Poor Metaboliser: {phenotypes: [Poor Metabolizer]}",  # no row words it so
        "  DPWG: [Normal Metabolizer,": "  CPIC: [Typical Metabolizer]",  # no gene has the phenotype
    }
    text = path.read_text()
    for key, entry in added.items():
        end = text.index("\n", text.index(key)) + 1
        if key.startswith("  - match:"):
            end = text.index("\n", end) + 1  # below its set: line
        text = text[:end] + entry + "\n" + text[end:]
    text = text.replace("not_covered_genes: [CYP2C8]", "not_covered_genes: [CYP2C8, CYP2E1]")  # no row names CYP2E1
    path.write_text(text)
    dead = ["source: CPNDS", "line 9249", "ibuprofen: [celecoxib]", "DPWG ribavirin", "arbekacin"]
    dead += ["strength: strong}        # PMID 33387367", "Poor Metaboliser", "CYP2E1", "Typical Metabolizer"]
    lines = sorted(next(i for i, t in enumerate(text.splitlines(), 1) if d in t) for d in dead)
    with pytest.raises(RuleError) as info:
        build_rules(kb, shared / "data", load_curation(rules_copy), {})
    err = info.value
    assert "\n" not in str(err) and (err.path, err.line) == (str(path), lines[0])
    assert "phenotype alias CYP2D6 'Poor Metaboliser': no source row has this wording" in str(err)
    others = str(err).split(f"(and {len(lines) - 1} more: ", 1)[1].rstrip(")").split(", ")
    assert others == [f"{path}:{line}" for line in lines[1:]]
