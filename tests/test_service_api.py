"""The HTTP API as a lab pipeline, a pharmacist and a curator use it, on SQLite and PostgreSQL.

Requests go through httpx (FastAPI's TestClient) into the real app with real job workers, a real
database and the real calling core: submit -> status -> report, auth, limits, bad input, review
decisions with optimistic locking, rule sets and the audit trail.
"""

from __future__ import annotations

import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from pgx.report.models import DrugReport
from pgx.rules.loader import load_rules
from pgx.service import auth
from pgx.service.api import create_app
from pgx.service.config import ServiceSettings
from pgx.service.db import AuditEntry, Base, Job, ReviewFlag, SampleReport
from pgx.service.rulesets import archive_folder
from tests.conftest import REPO, SHARED, needs_shared
from tests.service_support import wait_for_job

PATIENT = REPO / "sample_vcfs" / "patient_001.vcf"
TRIO = REPO / "sample_vcfs" / "trio_phased.vcf.gz"


class Svc:
    client: TestClient  # set by the fixture, while the app runs

    def __init__(self, tmp: Path, url: str | None, **kw: object) -> None:
        self.settings = ServiceSettings(data_dir=tmp / "svc", database_url=url, secure_cookies=False, **kw)
        self.app = create_app(self.settings)
        self.db = self.app.state.service.db
        self.tokens: dict[str, str] = {}
        with self.db.session() as s:
            for role in ("pipeline", "pharmacist", "curator", "admin"):
                tok = auth.add_user(s, role, role, password=f"{role}-password-123", with_token=True)
                assert tok
                self.tokens[role] = tok

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def count(self, model: type[Base]) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def svc(tmp_path: Path, db_url: str | None) -> Iterator[Svc]:
    s = Svc(tmp_path, db_url, max_upload_bytes=2_000_000)
    with TestClient(s.app) as client:
        s.client = client
        yield s


def submit(svc: Svc, path: Path, name: str | None = None, role: str = "pipeline", **form: str) -> httpx.Response:
    with path.open("rb") as fh:
        return svc.client.post(
            "/v1/jobs",
            headers=svc.h(role),
            files={"vcf": (name or path.name, fh)},
            data=form,
        )


def test_submit_status_report_multi_sample(svc: Svc) -> None:
    r = submit(svc, TRIO, medications="Paroxetine")
    assert r.status_code == 202, r.text
    job = wait_for_job(svc.client, r.json()["id"], svc.h("pipeline"))
    assert job["status"] == "done", job
    assert job["rules_version"] == load_rules().version and job["medications"] == ["paroxetine"]
    assert len(job["links"]["reports"]) == 3
    for sample, url in job["links"]["reports"].items():
        rep = svc.client.get(url, headers=svc.h("pipeline"))
        assert rep.status_code == 200 and rep.headers["content-type"].startswith("application/json")
        report = DrugReport.model_validate_json(rep.text)
        assert [s.sample for s in report.samples] == [sample]
        assert report.input.name == TRIO.name and report.input.sha256 == job["input_sha256"]
        assert report.rules_version == job["rules_version"]
        assert report.samples[0].medications == ["paroxetine"]
        html = svc.client.get(url, params={"format": "html"}, headers=svc.h("pharmacist"))
        assert html.status_code == 200 and "<html" in html.text and sample in html.text
        # every flag a pharmacist must see is in the review queue, nothing more
        flagged = {d.drug for d in report.samples[0].drugs if d.level in ("contraindicated", "change", "caution")}
        queue = svc.client.get(
            "/v1/flags",
            params={"sample": sample, "status": "open", "limit": 1000},
            headers=svc.h("pharmacist"),
        ).json()
        assert {f["drug"] for f in queue} == flagged and flagged


def test_sample_subset_and_unknown_sample(svc: Svc) -> None:
    r = submit(svc, TRIO, samples="NOPE")
    assert r.status_code == 422 and "NOPE" in r.json()["error"]["message"]
    assert svc.count(Job) == 0


@pytest.mark.parametrize(
    "headers, status", [({}, 401), ({"Authorization": "Bearer pgx_wrong"}, 401), ({"Authorization": "Basic abc"}, 401)]
)
def test_auth_missing_or_wrong_token(svc: Svc, headers: dict[str, str], status: int) -> None:
    with PATIENT.open("rb") as fh:
        r = svc.client.post("/v1/jobs", headers=headers, files={"vcf": ("p.vcf", fh)})
    assert r.status_code == status and r.json()["error"]["code"] == "unauthenticated"
    assert svc.client.get("/v1/genes", headers=headers).status_code == 401
    assert svc.count(Job) == 0


@pytest.mark.parametrize(
    "role, method, path",
    [
        ("pharmacist", "post", "/v1/jobs"),
        ("curator", "post", "/v1/jobs"),
        ("pipeline", "get", "/v1/flags"),
        ("curator", "get", "/v1/flags"),
        ("pipeline", "post", "/v1/rulesets"),
        ("pharmacist", "post", "/v1/rulesets/1/activate"),
    ],
)
def test_wrong_role_is_forbidden(svc: Svc, role: str, method: str, path: str) -> None:
    r = getattr(svc.client, method)(path, headers=svc.h(role))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert role in r.json()["error"]["message"]


def test_oversized_upload_is_refused_and_nothing_kept(svc: Svc, tmp_path: Path) -> None:
    big = tmp_path / "big.vcf"
    big.write_bytes(PATIENT.read_bytes() + b"#" * 2_100_000)
    r = submit(svc, big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert "max_upload_bytes" in r.json()["error"]["message"]  # the setting, not a CLI flag
    assert svc.count(Job) == 0
    assert not any(svc.settings.uploads.iterdir())  # the partial upload was removed


def _bad_vcfs() -> list[Any]:
    import csv

    if SHARED is None:
        return [pytest.param(None, marks=needs_shared)]
    with open(SHARED / "testdata/bad_vcfs/EXPECTED.tsv", newline="") as fh:
        rows = [
            r
            for r in csv.DictReader(fh, delimiter="\t")
            if r["expected behaviour"].startswith("error:") or r["expected behaviour"].startswith("error naming")
        ]
    return [pytest.param(SHARED / "testdata/bad_vcfs" / r["file"], id=r["file"]) for r in rows]


@pytest.mark.parametrize("path", _bad_vcfs())
def test_malformed_vcf_is_a_4xx_naming_the_uploaded_file(svc: Svc, path: Path) -> None:
    r = submit(svc, path, name=f"lab-upload-{path.name}")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_input" and err["message"].startswith(f"lab-upload-{path.name}")
    assert str(svc.settings.data_dir) not in err["message"]  # our storage paths never leak
    assert svc.count(Job) == 0 and not any(svc.settings.uploads.iterdir())


@pytest.mark.parametrize(
    "name, label",
    [
        ("../../evil.vcf", "evil.vcf"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\win.vcf", "win.vcf"),
        ("a/../../b.vcf", "b.vcf"),
        ("..", "upload.vcf"),
    ],
)
def test_path_traversal_file_name_is_only_a_label(svc: Svc, name: str, label: str) -> None:
    before = {p for p in svc.settings.data_dir.parent.rglob("*")}
    r = submit(svc, PATIENT, name=name)
    assert r.status_code == 202, r.text
    assert r.json()["input_name"] == label
    new = {p for p in svc.settings.data_dir.parent.rglob("*")} - before
    assert all(svc.settings.data_dir in p.parents for p in new), new
    with svc.db.session() as s:
        job = s.get(Job, r.json()["id"])
        assert job is not None and (svc.settings.uploads / job.stored_name).is_file()
        assert len(job.stored_name) == 32 and job.stored_name.isalnum()


def test_genes_and_rules_version(svc: Svc) -> None:
    genes = svc.client.get("/v1/genes", headers=svc.h("pharmacist")).json()
    assert {"CYP2C19", "CYP2D6", "DPYD"} <= {g["gene"] for g in genes["genes"]}
    v = svc.client.get("/v1/rules/version", headers=svc.h("curator")).json()
    assert v["rules_version"] == load_rules().version and v["ruleset_id"] is None


def _done_flag(svc: Svc) -> dict[str, Any]:
    job = wait_for_job(svc.client, submit(svc, PATIENT).json()["id"], svc.h("pipeline"))
    assert job["status"] == "done", job
    flags = svc.client.get("/v1/flags", headers=svc.h("pharmacist")).json()
    assert flags
    return flags[0]


def test_concurrent_decisions_one_wins_one_conflicts(svc: Svc) -> None:
    flag = _done_flag(svc)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def act(decision: str) -> None:
        barrier.wait()
        r = svc.client.post(
            f"/v1/flags/{flag['id']}/decision",
            headers=svc.h("pharmacist"),
            json={"decision": decision, "reason": f"{decision} by a reviewer", "version": 1},
        )
        results.append(r.status_code)

    threads = [threading.Thread(target=act, args=(d,)) for d in ("override", "escalate")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    with svc.db.session() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "flag", AuditEntry.object_id == str(flag["id"]))
        ).all()
        now = s.get(ReviewFlag, flag["id"])
    assert len(entries) == 1 and now is not None and now.version == 2
    assert entries[0].after["status"] == now.status and entries[0].before["status"] == "open"
    assert entries[0].actor == "pharmacist" and entries[0].rules_version == load_rules().version
    # the loser is told what happened and can decide again on the new version
    stale = svc.client.post(
        f"/v1/flags/{flag['id']}/decision",
        headers=svc.h("pharmacist"),
        json={"decision": "accept", "version": 1},
    )
    assert stale.status_code == 409 and stale.json()["error"]["current"]["version"] == 2
    ok = svc.client.post(
        f"/v1/flags/{flag['id']}/decision",
        headers=svc.h("pharmacist"),
        json={"decision": "accept", "version": 2},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"


def test_override_needs_a_reason_and_audit_log_is_append_only(svc: Svc) -> None:
    flag = _done_flag(svc)
    r = svc.client.post(
        f"/v1/flags/{flag['id']}/decision",
        headers=svc.h("pharmacist"),
        json={"decision": "override", "reason": "  ", "version": 1},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason_required"
    r = svc.client.post(
        f"/v1/flags/{flag['id']}/decision",
        headers=svc.h("admin"),
        json={"decision": "override", "reason": "patient already stable on this dose", "version": 1},
    )
    assert r.status_code == 200
    for statement in ("UPDATE audit_log SET reason = 'edited'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), svc.db.session() as s:
            s.execute(text(statement))
    assert svc.count(AuditEntry) >= 2  # the submission and the decision, both still there


def test_session_cookie_cannot_write_through_the_api(svc: Svc) -> None:
    flag = _done_flag(svc)
    c = svc.client
    page = c.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert (
        c.post(
            "/login",
            data={"username": "pharmacist", "password": "pharmacist-password-123", "csrf": csrf},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert c.get("/v1/flags").status_code == 200  # a session may read
    r = c.post(f"/v1/flags/{flag['id']}/decision", json={"decision": "accept", "version": 1})
    assert r.status_code == 401  # but writes through /v1 need a token; the form has its CSRF token
    form = c.post(f"/review/flags/{flag['id']}", data={"decision": "accept", "version": 1, "csrf": "forged"})
    assert form.status_code == 403
    with svc.db.session() as s:
        row = s.get(ReviewFlag, flag["id"])
        assert row is not None and row.status == "open"


def test_login_is_rate_limited(svc: Svc) -> None:
    c = svc.client
    csrf = c.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    codes = [
        c.post("/login", data={"username": "pharmacist", "password": f"wrong-{i}", "csrf": csrf}).status_code
        for i in range(svc.settings.login_failures_allowed + 1)
    ]
    assert codes[:-1] == [401] * svc.settings.login_failures_allowed and codes[-1] == 429
    # even the right password waits out the window: guessing must not be able to tell
    right = c.post("/login", data={"username": "pharmacist", "password": "pharmacist-password-123", "csrf": csrf})
    assert right.status_code == 429


def _ruleset_archive(folder: Path) -> bytes:
    return archive_folder(folder)


def test_curator_uploads_validates_and_activates_a_rule_set(svc: Svc, tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    c = svc.client
    good = c.post(
        "/v1/rulesets", headers=svc.h("curator"), files={"archive": ("rules.tar.gz", _ruleset_archive(rules))}
    )
    assert good.status_code == 200, good.text
    assert good.json()["status"] == "valid" and good.json()["tests_passed"] > 100 and not good.json()["problems"]
    # a broken copy: an unknown phenotype is reported with its file and line, and cannot be activated
    text_ = (rules / "codeine.yaml").read_text()
    (rules / "codeine.yaml").write_text(text_.replace("Poor Metabolizer", "Very Poor Metabolizer", 1))
    bad = c.post("/v1/rulesets", headers=svc.h("curator"), files={"archive": ("rules.tar.gz", _ruleset_archive(rules))})
    assert bad.json()["status"] == "invalid"
    assert any(p.startswith("codeine.yaml:") and "Very Poor Metabolizer" in p for p in bad.json()["problems"])
    assert c.post(f"/v1/rulesets/{bad.json()['id']}/activate", headers=svc.h("curator")).status_code == 409
    act = c.post(f"/v1/rulesets/{good.json()['id']}/activate", headers=svc.h("curator"))
    assert act.status_code == 200 and act.json()["active"]
    v = c.get("/v1/rules/version", headers=svc.h("pipeline")).json()
    assert v["ruleset_id"] == good.json()["id"]
    with svc.db.session() as s:
        acts = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "ruleset")).all()
    assert [a.action for a in acts] == ["upload", "upload", "activate"]
    # jobs submitted now record and use the uploaded rule set
    job = wait_for_job(c, submit(svc, PATIENT).json()["id"], svc.h("pipeline"))
    assert job["status"] == "done" and job["rules_version"] == good.json()["version"]


def test_rule_archive_cannot_write_outside_its_folder(svc: Svc, tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        t.add(rules, arcname="rules")
        for name in ("../../escaped.yaml", "/tmp/absolute-escape.yaml", "rules/../../up.yaml"):
            info = tarfile.TarInfo(name)
            info.size = 5
            t.addfile(info, io.BytesIO(b"x: 1\n"))
    r = svc.client.post(
        "/v1/rulesets",
        headers=svc.h("curator"),
        files={"archive": ("evil.tar.gz", buf.getvalue())},
    )
    assert r.status_code == 200, r.text
    # the stray files land, under their base names, inside the rule set's own folder (and fail validation)
    assert r.json()["status"] == "invalid"
    root = svc.settings.data_dir.parent
    for name in ("escaped.yaml", "absolute-escape.yaml", "up.yaml"):
        found = list(root.rglob(name)) + list(Path("/tmp").glob(name))
        assert found and all(svc.settings.rulesets in p.parents for p in found), found


def test_reports_are_not_ready_before_done_and_unknown_is_404(svc: Svc) -> None:
    c = svc.client
    assert c.get("/v1/jobs/nope", headers=svc.h("pipeline")).status_code == 404
    job = wait_for_job(c, submit(svc, PATIENT).json()["id"], svc.h("pipeline"))
    missing = c.get(f"/v1/jobs/{job['id']}/samples/OTHER/report", headers=svc.h("pipeline"))
    assert missing.status_code == 404 and "OTHER" in missing.json()["error"]["message"]
    with svc.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SampleReport)) == 1


def test_admin_manages_users_and_a_deactivated_token_stops_working(svc: Svc) -> None:
    c = svc.client
    assert c.post("/v1/users", headers=svc.h("curator"), json={"name": "x", "role": "pipeline"}).status_code == 403
    made = c.post("/v1/users", headers=svc.h("admin"), json={"name": "lab-2", "role": "pipeline"})
    assert made.status_code == 201 and made.json()["token"].startswith("pgx_")
    h = {"Authorization": f"Bearer {made.json()['token']}"}
    assert c.get("/v1/genes", headers=h).status_code == 200
    listed = c.get("/v1/users", headers=svc.h("admin")).json()
    assert {u["name"] for u in listed} >= {"lab-2", "pharmacist"} and all(u["token"] is None for u in listed)
    dup = c.post("/v1/users", headers=svc.h("admin"), json={"name": "lab-2", "role": "pipeline"})
    assert dup.status_code == 422 and "exists" in dup.json()["error"]["message"]
    weak = c.post("/v1/users", headers=svc.h("admin"), json={"name": "p2", "role": "pharmacist", "password": "short"})
    assert weak.status_code == 422
    assert c.patch("/v1/users/lab-2", headers=svc.h("admin"), json={"active": False}).json()["active"] is False
    assert c.get("/v1/genes", headers=h).status_code == 401
    assert c.patch("/v1/users/admin", headers=svc.h("admin"), json={"active": False}).status_code == 409
    with svc.db.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.object_type == "user")).all()]
    assert actions == ["create", "update"]


def test_openapi_spec_is_committed_and_current(tmp_path: Path) -> None:
    import json

    app = create_app(ServiceSettings(data_dir=tmp_path, workers=0))
    committed = json.loads((REPO / "schemas" / "openapi.json").read_text())
    assert committed == json.loads(json.dumps(app.openapi())), "run: pgx service openapi -o schemas/openapi.json"
