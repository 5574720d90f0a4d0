"""Each drug's pathway roles (activation, clearance, transport, target), for the rationale wording."""

from __future__ import annotations

from pathlib import Path

from pgx.yamlio import load_marked


def load_roles(path: Path) -> dict[tuple[str, str], str]:
    """(drug, gene) -> pathway role, from the curated drug file when it exists."""
    if not path.exists():
        return {}
    data = load_marked(path).data or {}
    out = {}
    for drug, facts in (data.get("drugs") or {}).items():
        for p in (facts or {}).get("pathways", []) or []:
            out[(drug.lower(), p["gene"])] = p["role"]
    return out
