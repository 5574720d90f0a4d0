"""YAML in and out, keeping line/column marks so schema errors point at file:line:column.

Only ``yaml.safe_load`` semantics are used (SafeLoader composition); nothing in a YAML
file can construct arbitrary objects.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pgx.errors import KnowledgeError, LocatedInputError

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MarkedDocument:
    """A parsed YAML document plus a way back from a data path to its source position.

    The node tree (with marks) is only built when an error needs locating, so loading a
    valid file costs one fast parse.
    """

    def __init__(self, path: str, data: Any, text: str) -> None:
        self.path = path
        self.data = data
        self._text = text

    def locate(self, loc: Sequence[str | int]) -> tuple[int, int]:
        """1-based (line, column) of the deepest node reachable along ``loc``."""
        node = yaml.compose(self._text, Loader=_SafeLoader)
        best = node
        for key in loc:
            if node is None:
                break
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if str(getattr(k, "value", None)) == str(key):
                        nxt = v
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                nxt = node.value[key]
            if nxt is None:
                continue  # a path element with no node of its own (e.g. a union tag): try the next one here
            node = best = nxt
        if best is None:
            return (1, 1)
        return (best.start_mark.line + 1, best.start_mark.column + 1)


def load_marked(
    path: str | Path, text: str | None = None, error: type[LocatedInputError] = KnowledgeError
) -> MarkedDocument:
    """Parse one YAML document with safe semantics; syntax errors become ``error`` at file:line:column."""
    path = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise error(path, f"cannot read file: {exc.strerror}") from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    data = _cached(digest)
    if data is not _MISS:
        return MarkedDocument(path, data, text)
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader (C or pure Python)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise error(path, f"YAML syntax error: {exc.problem}", line=line, column=col) from None
    except yaml.YAMLError as exc:
        raise error(path, f"YAML error: {exc}") from None
    _store(digest, data)
    return MarkedDocument(path, data, text)


# -- parse cache ----------------------------------------------------------------------------
# PyYAML builds Python objects in Python even with the C parser: the knowledge base costs
# ~0.3 s per process that way, a third of a single-sample call. The parsed data of each
# document is therefore kept in a per-user cache, keyed by the SHA-256 of its text (an
# edited file is simply a new key) and checked by a digest of its own bytes, so a torn or
# corrupted entry is re-parsed, never trusted. marshal only holds plain data (no code, no
# classes); documents with other types (dates) are not cached. PGX_CACHE_DIR moves the
# cache, PGX_NO_CACHE=1 turns it off; an unwritable cache is silently skipped.

_MISS = object()
_CACHE_FORMAT = b"pgx-yaml-1\n"


def _cache_file(digest: str) -> Path | None:
    if os.environ.get("PGX_NO_CACHE"):
        return None
    base = os.environ.get("PGX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pgx"
    )
    return Path(base) / "yaml" / f"{digest}.marshal"


def _cached(digest: str) -> Any:
    f = _cache_file(digest)
    if f is None:
        return _MISS
    start = len(_CACHE_FORMAT) + 32  # format line, then the SHA-256 of the body
    try:
        blob = f.read_bytes()
        body = blob[start:]
        if blob[: len(_CACHE_FORMAT)] != _CACHE_FORMAT or hashlib.sha256(body).digest() != blob[start - 32 : start]:
            return _MISS
        return marshal.loads(body)
    except (OSError, ValueError, EOFError, TypeError):
        return _MISS


def _store(digest: str, data: Any) -> None:
    f = _cache_file(digest)
    if f is None:
        return
    try:
        body = marshal.dumps(data)
    except ValueError:
        return  # a type marshal cannot hold: parse this document every time
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f"{f.name}.{os.getpid()}.part")
        tmp.write_bytes(_CACHE_FORMAT + hashlib.sha256(body).digest() + body)
        os.replace(tmp, f)
    except OSError:
        return


def validate_document(
    doc: MarkedDocument, model: type[BaseModel], error: type[LocatedInputError] = KnowledgeError
) -> Any:
    """Validate parsed YAML; the first error becomes ``error`` at file:line:column, with the field path."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"] if isinstance(p, (str, int))]
        line, col = doc.locate(loc)
        field = ".".join(str(p) for p in loc) or "(document)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise error(doc.path, f"{field}: {err['msg']}{more}", line=line, column=col) from None


class _Dumper(yaml.SafeDumper):
    """Block style for structure, flow style for short leaf lists; stable key order."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


class FlowList(list):  # type: ignore[type-arg]
    """A list that should be written on one line."""


class FlowDict(dict):  # type: ignore[type-arg]
    """A mapping that should be written on one line."""


_Dumper.add_representer(FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True))
_Dumper.add_representer(FlowDict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True))


def dump_yaml(data: Any, header: str | None = None) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    if header:
        lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
        return lines + body
    return body
