"""YAML in and out, keeping line/column marks so schema errors point at file:line:column.

Only ``yaml.safe_load`` semantics are used (SafeLoader composition); nothing in a YAML
file can construct arbitrary objects.
"""

from __future__ import annotations

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


def load_marked(path: str | Path, text: str | None = None,
                error: type[LocatedInputError] = KnowledgeError) -> MarkedDocument:
    """Parse one YAML document with safe semantics; syntax errors become ``error`` at file:line:column."""
    path = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise error(path, f"cannot read file: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader (C or pure Python)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise error(path, f"YAML syntax error: {exc.problem}", line=line, column=col) from None
    except yaml.YAMLError as exc:
        raise error(path, f"YAML error: {exc}") from None
    return MarkedDocument(path, data, text)


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
