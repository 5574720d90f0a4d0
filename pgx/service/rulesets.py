"""Curators publish a rule set without a redeploy: upload an archive, see validation and rule tests, activate.

The archive is unpacked by hand, file by file: only ``*.yaml`` files at the top or in ``tests/`` are kept,
under their base names, so no name in an archive can write outside the rule set's own folder.
Jobs record the rule set active when they were submitted, so every report says which rules produced it.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from pydantic import BaseModel
from sqlalchemy import select, update

from pgx.errors import InputError, PgxError
from pgx.knowledge.loader import load_knowledge
from pgx.rules.curator import load_tests, run_tests, validate_folder
from pgx.rules.loader import load_rules
from pgx.service.core import ApiError, Service, audit
from pgx.service.db import RuleSet, User

MAX_MEMBER_BYTES = 20 * 1024 * 1024


class RuleSetView(BaseModel):
    id: int
    version: str
    status: str
    active: bool
    problems: list[str]
    tests_passed: int
    tests_failed: int


def _members(archive: Path) -> list[tuple[str, bytes]]:
    """(relative name, content) of the YAML files in a .zip or .tar(.gz) archive."""
    out: list[tuple[str, bytes]] = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if not info.is_dir() and info.file_size <= MAX_MEMBER_BYTES:
                    out.append((info.filename, z.read(info)))
        return out
    try:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                f = t.extractfile(m) if m.isfile() and m.size <= MAX_MEMBER_BYTES else None
                if f is not None:
                    out.append((m.name, f.read()))
    except tarfile.TarError:
        raise InputError(
            "the rules archive is neither a zip nor a tar file",
            hint="upload the rules/ folder as rules.tar.gz or rules.zip",
        ) from None
    return out


def unpack(archive: Path, target: Path) -> int:
    target.mkdir(parents=True)
    (target / "tests").mkdir()
    n = 0
    for name, data in _members(archive):
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if not parts or not parts[-1].endswith(".yaml") or parts[-1].startswith("."):
            continue
        sub = "tests" if len(parts) >= 2 and parts[-2] == "tests" else ""
        (target / sub / parts[-1]).write_bytes(data)
        n += 1
    if not (target / "manifest.yaml").exists():
        raise InputError("the rules archive has no manifest.yaml", hint="archive the whole rules/ folder")
    return n


def view(rs: RuleSet) -> RuleSetView:
    return RuleSetView(
        id=rs.id,
        version=rs.version,
        status=rs.status,
        active=rs.active,
        problems=rs.problems,
        tests_passed=rs.tests_passed,
        tests_failed=rs.tests_failed,
    )


def check_ruleset(svc: Service, user: User, archive: Path, name: str) -> RuleSetView:
    """Unpack, validate and test an uploaded rule set; it is recorded, inactive, as valid or invalid."""
    stored = uuid.uuid4().hex
    folder = svc.settings.rulesets / stored
    try:
        unpack(archive, folder)
        kb = load_knowledge()
        report = validate_folder(kb, folder)
        problems = [str(p).replace(str(folder) + "/", "") for p in report.errors]
        passed = failed = 0
        version = "unknown"
        if not problems:
            rb = load_rules(str(folder))
            version = rb.version
            tests, docs = load_tests(folder)
            results = run_tests(kb, rb, tests, docs)
            passed = sum(r.passed for r in results)
            failed = len(results) - passed
            problems = [
                f"{Path(r.path).name}:{r.line or ''}: test {r.name} failed: {r.detail}" for r in results if not r.passed
            ]
    except PgxError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    with svc.db.session() as s:
        rs = RuleSet(
            version=version,
            stored_name=stored,
            uploaded_by=user.id,
            status="valid" if not problems else "invalid",
            problems=problems[:200],
            tests_passed=passed,
            tests_failed=failed,
            active=False,
        )
        s.add(rs)
        s.flush()
        audit(
            s,
            user,
            "upload",
            "ruleset",
            str(rs.id),
            None,
            {"version": version, "status": rs.status, "archive": name},
            None,
            version,
        )
    return view(rs)


def activate_ruleset(svc: Service, user: User, ruleset_id: int) -> RuleSetView:
    """Make a valid rule set the one new jobs use (the one active before stops being so)."""
    with svc.db.session() as s:
        rs = s.get(RuleSet, ruleset_id)
        if rs is None:
            raise ApiError(404, "not_found", f"no rule set {ruleset_id}")
        if rs.status != "valid":
            raise ApiError(
                409,
                "invalid_ruleset",
                f"rule set {ruleset_id} did not pass validation and its tests; "
                "fix the problems listed and upload it again",
            )
        old = s.scalar(select(RuleSet).where(RuleSet.active.is_(True)))
        s.execute(update(RuleSet).where(RuleSet.active.is_(True)).values(active=False))
        rs.active = True
        audit(
            s,
            user,
            "activate",
            "ruleset",
            str(rs.id),
            {"active": old.version if old else "bundled"},
            {"active": rs.version},
            None,
            rs.version,
        )
    return view(rs)


def archive_folder(folder: Path) -> bytes:
    """A rules folder as .tar.gz bytes (for tests and for curators' scripts)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for p in sorted(folder.rglob("*.yaml")):
            t.add(p, arcname=str(p.relative_to(folder)))
    return buf.getvalue()
