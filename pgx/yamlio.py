"""YAML in and out, keeping line/column marks so schema errors point at file:line:column.

Only ``yaml.safe_load`` semantics are used (SafeLoader composition); nothing in a YAML
file can construct arbitrary objects.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pgx.errors import KnowledgeError, LocatedInputError

if TYPE_CHECKING:
    from importlib.abc import Traversable

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
V = TypeVar("V")


class MarkedDocument:
    """A parsed YAML document plus a way back from a data path to its source position.

    The node tree (with marks) is only built when an error needs locating, so loading a
    valid file costs one fast parse.
    """

    def __init__(self, path: str, data: Any, text: str) -> None:
        self.path = path
        self.data = data
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def locate(self, loc: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the deepest node reachable along ``loc``; with ``at_key``, of the key that
        names the last one (where a misspelt key, or an entry naming an unknown gene, is written)."""
        node = yaml.compose(self._text, Loader=_SafeLoader)
        best = node
        for key in loc:
            if node is None:
                break
            nxt: yaml.Node | None = None
            mark: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if str(getattr(k, "value", None)) == str(key):
                        nxt, mark = v, (k if at_key else v)
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                nxt = mark = node.value[key]
            if nxt is None:
                continue  # a path element with no node of its own (e.g. a union tag): try the next one here
            node, best = nxt, mark
        if best is None:
            return (1, 1)
        return (best.start_mark.line + 1, best.start_mark.column + 1)

    def refuse_duplicate_keys(self, error: type[LocatedInputError]) -> None:
        """YAML keeps the last of two equal keys, so a curator's first entry would be lost unseen."""
        stack = [yaml.compose(self._text, Loader=_SafeLoader)]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, yaml.Node] = {}
                for k, v in node.value:
                    name = str(getattr(k, "value", ""))
                    if name in seen:
                        first = seen[name].start_mark.line + 1
                        raise error(
                            self.path,
                            f"duplicate key {name!r} (first at line {first}); the earlier entry would be lost",
                            line=k.start_mark.line + 1,
                            column=k.start_mark.column + 1,
                        )
                    seen[name] = k
                    stack.append(v)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)


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


def validate_document(doc: MarkedDocument, model: type[M], error: type[LocatedInputError] = KnowledgeError) -> M:
    """Validate parsed YAML; the first error becomes ``error`` at file:line:column, with the field path.

    A key the model does not know is reported first, at the key itself: a misspelt key explains
    the "field required" of the key it was meant to be.
    """
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors()
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = [p for p in err["loc"] if isinstance(p, (str, int))]
        line, col = doc.locate(loc, at_key=err["type"] == "extra_forbidden")
        field = ".".join(str(p) for p in loc) or "(document)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise error(doc.path, f"{field}: {err['msg']}{more}", line=line, column=col) from None


@dataclass(frozen=True)
class Located(Generic[T]):
    """A value read from a YAML document and the path to it, so a later check can name its file:line:column
    (an override that matches no rule, a curated allele the sources do not define)."""

    value: T
    document: MarkedDocument
    loc: tuple[str | int, ...] = ()
    error_type: type[LocatedInputError] = KnowledgeError

    def at(self, *loc: str | int) -> Located[None]:
        """The place of the entry reached from this one by ``loc`` (keys and list positions)."""
        return Located(None, self.document, (*self.loc, *loc), self.error_type)

    def holding(self, value: V) -> Located[V]:
        """The same place, with the value found there."""
        return Located(value, self.document, self.loc, self.error_type)

    def position(self, *, at_key: bool = False) -> tuple[int, int]:
        return self.document.locate(self.loc, at_key=at_key)

    def where(self) -> str:
        """path:line of the entry."""
        return f"{self.document.path}:{self.position()[0]}"

    def error_at(self, loc: Sequence[str | int], message: str, *, at_key: bool = False) -> LocatedInputError:
        """:meth:`error` about the entry reached by ``loc``."""
        return self.at(*loc).error(message, at_key=at_key)

    def error(self, message: str, *, at_key: bool = False) -> LocatedInputError:
        """``message`` about this entry (``at_key``: about the key that names it: a gene, a drug)."""
        line, column = self.position(at_key=at_key)
        field = ".".join(str(p) for p in self.loc)
        return self.error_type(
            self.document.path, f"{field}: {message}" if field else message, line=line, column=column
        )


def read_validated(
    source: Path | Traversable | str, label: str, model: type[M], error: type[LocatedInputError]
) -> Located[M]:
    """A curated YAML file validated as ``model``: syntax, duplicate keys, then the model, each a one-line
    ``error`` at file:line:column. An empty file is an empty mapping. ``label`` names the file in errors."""
    try:
        text = (source if not isinstance(source, str) else Path(source)).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(label, f"cannot read file: {exc.strerror or exc}") from None
    return validate_text(label, text, model, error)


def validate_text(label: str, text: str, model: type[M], error: type[LocatedInputError]) -> Located[M]:
    """:func:`read_validated` of YAML text already read (or written by code, for tests and defaults)."""
    doc = load_marked(label, text, error)
    doc.refuse_duplicate_keys(error)
    if doc.data is None:
        doc = MarkedDocument(label, {}, text)
    return Located(validate_document(doc, model, error), doc, (), error)


class _Dumper(yaml.SafeDumper):
    """Block style for structure, flow style for short leaf lists; stable key order."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


class FlowList(list[Any]):
    """A list that should be written on one line."""


class FlowDict(dict[Any, Any]):
    """A mapping that should be written on one line."""


_Dumper.add_representer(FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True))
_Dumper.add_representer(FlowDict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True))


def dump_yaml(data: Any, header: str | None = None) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    if header:
        lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
        return lines + body
    return body
