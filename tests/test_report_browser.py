"""The HTML drug report as a pharmacist's browser shows it: headless Chromium renders the page pgx writes.

Checks that every drug the JSON report flags is in the page's "needs attention" table (with a detail card), that
hostile input (sample name, file name, medication) stays inert text, that the page loads no external asset, and that
the rendered screenshot is a real, non-blank image. Skips when selenium, chromium or chromedriver is absent.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_pgx

HOSTILE_SAMPLE = "<script>alert(1)</script>"
HOSTILE_MED = "<img src=x onerror=alert(2)>"
HOSTILE_FILE = '"><img src=x onerror=alert(3)>.vcf'  # breaks out of an attribute if the input name is unescaped
ATTENTION = ("contraindicated", "change", "caution", "cannot_assess")  # the template's "needs attention" levels
WIDTH, HEIGHT = 1280, 1600

# Recorded before any page script can run, so a payload that executes leaves a trace even if it never opens a dialog.
HOOK = """
window.__pgx_calls = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__pgx_calls.push([name, ...args.map(String)]); };
}
"""


def _find_browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("chromium/chromedriver not installed: apt-get install chromium chromium-driver")
    return chromium, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium not installed: pip install -e '.[dev]'")
    chromium, chromedriver = _find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    options.unhandled_prompt_behavior = "ignore"  # a real dialog stays open so the test can see it
    # An explicit Service path keeps Selenium Manager from trying to download a driver.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One patient with actionable results in four genes, a phenoconverting medication and hostile names."""
    d = tmp_path_factory.mktemp("browser_report")
    vcf = d / HOSTILE_FILE
    proc = run_pgx(
        "simulate",
        "-g",
        "CYP2C19",
        "-d",
        "*2/*2",
        "-g",
        "CYP2D6",
        "-d",
        "*1/*1",
        "-g",
        "DPYD",
        "-d",
        "c.1905+1G>A (*2A)/Reference",
        "--sample",
        HOSTILE_SAMPLE,
        "-o",
        str(vcf),
    )
    assert proc.returncode == 0, proc.stderr
    calls = d / "outside.tsv"
    calls.write_text("gene\tdiplotype\nHLA-B\t*57:01/*08:01\n")
    common = (str(vcf), "--meds", f"paroxetine,{HOSTILE_MED}", "--outside-calls", str(calls))
    html, js = d / "report.html", d / "report.json"
    for fmt, out in (("html", html), ("json", js)):
        proc = run_pgx("report", *common, "-f", fmt, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
    return html, json.loads(js.read_text())


@pytest.fixture
def page(browser: Any, report: tuple[Path, dict[str, Any]]) -> Any:
    browser.get(report[0].as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    return browser


def _sample(report: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    samples = report[1]["samples"]
    assert len(samples) == 1 and samples[0]["sample"] == HOSTILE_SAMPLE
    return samples[0]


def test_flagged_drugs_are_in_the_attention_section(page: Any, report: tuple[Path, dict[str, Any]]) -> None:
    sample = _sample(report)
    levels = {d["drug"]: d["level"] for d in sample["drugs"]}
    # The patient's known actionable results, so an empty or wrong JSON report cannot pass vacuously.
    assert {k: levels.get(k) for k in ("clopidogrel", "codeine", "abacavir", "fluorouracil")} == {
        "clopidogrel": "contraindicated",  # CYP2C19 *2/*2: avoid
        "codeine": "contraindicated",  # CYP2D6 *1/*1 phenoconverted to poor metabolizer by paroxetine: avoid
        "abacavir": "contraindicated",  # HLA-B*57:01 outside call
        "fluorouracil": "change",  # DPYD *2A carrier: reduce dose
    }
    expected = {drug: lvl for drug, lvl in levels.items() if lvl in ("contraindicated", "change")}

    rows = page.execute_script("""
      const s = document.querySelector("section.sample");
      return Array.from(s.querySelectorAll("table.summary tbody tr")).map(tr => [
        tr.dataset.drug, tr.dataset.level, tr.cells[0].innerText.trim(), tr.cells[1].innerText.trim(),
        tr.cells[2].innerText.trim()]);
    """)
    in_table = {r[0]: r[1] for r in rows}
    for drug, lvl in expected.items():
        assert in_table.get(drug) == lvl, f"{drug} ({lvl}) missing from the attention table"
    shown = {r[0]: r for r in rows}
    assert shown["clopidogrel"][3] == "contraindicated / avoid" and shown["codeine"][4].startswith("avoid")
    assert shown["fluorouracil"][3] == "change dose" and shown["fluorouracil"][4].startswith("reduce dose")
    assert all(r[0] == r[2] for r in rows)  # the visible drug name is the flagged drug
    # Exactly the drugs needing attention, none of the standard ones, most severe first.
    assert in_table == {drug: lvl for drug, lvl in levels.items() if lvl in ATTENTION}
    order = [ATTENTION.index(r[1]) for r in rows]
    assert order == sorted(order), "attention table is not ordered most severe first"

    # Each flagged drug has its detail card, and every in-page link lands on an element.
    cards = page.execute_script("return Array.from(document.querySelectorAll('div.card')).map(c => c.dataset.drug)")
    assert set(expected) <= set(cards)
    dangling = page.execute_script("""
      return Array.from(document.querySelectorAll('a[href^="#"]')).map(a => a.getAttribute("href").slice(1))
        .filter(id => document.getElementById(id) === null);
    """)
    assert dangling == []

    # Flagged drugs come before the gene table and the standard-dosing list, and start on the first screen.
    headings = page.execute_script(
        "return Array.from(document.querySelectorAll('section.sample h3')).map(h => "
        "[h.innerText, h.getBoundingClientRect().top])"
    )
    titles = [h[0] for h in headings]
    first = titles.index(next(t for t in titles if t.startswith("Drugs to avoid or dose differently")))
    assert titles[first] == f"Drugs to avoid or dose differently ({len(expected)})"
    watch = len(in_table) - len(expected)
    assert titles[first + 1] == f"Use with caution, or not assessed ({watch})"
    assert first < titles.index("Gene results") < next(i for i, t in enumerate(titles) if t.startswith("Standard"))
    assert 0 <= headings[first][1] < page.execute_script("return window.innerHeight")
    assert page.execute_script(
        "return document.querySelector('[data-phenoconversion=\"CYP2D6\"]').innerText"
    ).startswith("CYP2D6: Normal Metabolizer (genotype) → Poor Metabolizer")
    # The badge colours come from the page's own stylesheet.
    colour = page.execute_script(
        "return getComputedStyle(document.querySelector('table.summary .badge.level-contraindicated')).backgroundColor"
    )
    assert colour == "rgb(179, 38, 30)"
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_hostile_names_stay_inert_text(page: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    assert page.execute_script("return window.__pgx_calls") == []
    with pytest.raises(NoAlertPresentException):
        page.switch_to.alert  # noqa: B018 - the property raises when no dialog is open
    # The page has no script at all, so the injected one cannot be among them; nor any inline handler or image.
    assert page.execute_script("return document.querySelectorAll('script').length") == 0
    handlers = page.execute_script("""
      return Array.from(document.querySelectorAll("*")).flatMap(el =>
        Array.from(el.attributes).filter(a => a.name.toLowerCase().startsWith("on"))
          .map(a => el.tagName + " " + a.name));
    """)
    assert handlers == []
    assert page.execute_script("return document.querySelectorAll('img, iframe, object, embed').length") == 0
    # The hostile strings are shown literally, as text, where the user gave them.
    assert page.title == f"Pharmacogenomic report: {HOSTILE_SAMPLE}"
    text = page.execute_script("return document.body.innerText")
    assert f"Sample {HOSTILE_SAMPLE}" in text
    assert f"input {HOSTILE_FILE} (vcf)" in text
    assert HOSTILE_MED in text
    assert page.execute_script("return document.querySelector('section.sample').dataset.sample") == HOSTILE_SAMPLE
    assert page.execute_script("return document.querySelector('header strong').textContent") == HOSTILE_FILE

    # Control: the hook does see a script that runs in a page, so the empty record above means something.
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><title>c</title><p>{HOSTILE_SAMPLE}</p>")
    page.get(control.as_uri())
    assert page.execute_script("return window.__pgx_calls") == [["alert", "1"]]


def test_no_external_assets(page: Any) -> None:
    assert page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    assets = page.execute_script("""
      const sel = "link[href], script[src], img, iframe, object, embed, source, video, audio, base, [style*='url(']";
      return Array.from(document.querySelectorAll(sel)).map(el => el.outerHTML.slice(0, 200));
    """)
    assert assets == []
    css = page.execute_script(
        "return Array.from(document.styleSheets).flatMap(s => Array.from(s.cssRules).map(r => r.cssText)).join('\\n')"
    )
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    # Links out are only the guidelines' own pages, over https; the rest are in-page anchors.
    hrefs = page.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
    )
    assert hrefs and all(h.startswith(("#", "https://")) for h in hrefs)


def _png_pixels_vary(png: bytes) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the image data holds (a blank image holds a handful)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    idat, pos = b"", 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def test_screenshot_is_a_rendered_page(page: Any, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    assert page.save_screenshot(str(shot))
    png = shot.read_bytes()
    width, height, distinct = _png_pixels_vary(png)
    assert [width, height] == page.execute_script("return [window.innerWidth, window.innerHeight]")
    assert len(png) > 20_000, f"screenshot is only {len(png)} bytes: blank page?"
    assert distinct > 64, "screenshot is (nearly) a single colour"
