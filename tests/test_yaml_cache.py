"""The parsed-YAML cache: a hit gives the same data as parsing, and a damaged or stale entry is never trusted."""

from __future__ import annotations

import datetime

import pytest

from pgx.errors import KnowledgeError
from pgx.knowledge.loader import load_knowledge
from pgx.yamlio import load_marked


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PGX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PGX_NO_CACHE", raising=False)
    return tmp_path / "cache" / "yaml"


def test_hit_equals_parse_and_edits_are_new_entries(tmp_path, cache):
    f = tmp_path / "doc.yaml"
    f.write_text("gene: CYP2C19\nalleles: {94781859: A, 94842866: G}\nscore: 1.5\nok: true\nnone: null\n")
    parsed = load_marked(f).data
    assert len(list(cache.glob("*.marshal"))) == 1
    assert load_marked(f).data == parsed and parsed["alleles"] == {94781859: "A", 94842866: "G"}
    f.write_text("gene: CYP2C9\n")
    assert load_marked(f).data == {"gene": "CYP2C9"}
    assert len(list(cache.glob("*.marshal"))) == 2


@pytest.mark.parametrize("damage", [lambda b: b[:-3], lambda b: b.replace(b"text", b"tent"), lambda b: b"junk"])
def test_damaged_entry_is_parsed_again(tmp_path, cache, damage):
    f = tmp_path / "doc.yaml"
    f.write_text("a: [1, 2, 3]\nb: text\n")
    load_marked(f)
    entry = next(cache.glob("*.marshal"))
    entry.write_bytes(damage(entry.read_bytes()))
    assert load_marked(f).data == {"a": [1, 2, 3], "b": "text"}


def test_cached_syntax_and_schema_errors_still_point_at_the_file(tmp_path, cache):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(KnowledgeError, match=r"bad.yaml:\d+:\d+: YAML syntax error"):
        load_marked(bad)
    assert not list(cache.glob("*.marshal"))  # nothing cached for a file that does not parse


def test_dates_are_not_cached_and_no_cache_writes_nothing(tmp_path, cache, monkeypatch):
    f = tmp_path / "dated.yaml"
    f.write_text("released: 2025-11-05\n")
    assert load_marked(f).data == {"released": datetime.date(2025, 11, 5)}
    assert not list(cache.glob("*.marshal"))
    monkeypatch.setenv("PGX_NO_CACHE", "1")
    g = tmp_path / "plain.yaml"
    g.write_text("x: 1\n")
    assert load_marked(g).data == {"x": 1}
    assert not cache.exists() or not list(cache.glob("*.marshal"))


def test_knowledge_base_from_the_cache_equals_a_fresh_parse(cache, monkeypatch):
    load_knowledge.cache_clear()
    first = load_knowledge()
    load_knowledge.cache_clear()
    second = load_knowledge()  # every document now comes from the cache
    assert list(cache.glob("*.marshal"))
    assert second.genes == first.genes and second.drugs == first.drugs and second.manifest == first.manifest
    load_knowledge.cache_clear()
