"""Population sanity check: call every 1000 Genomes gene file, compare allele frequencies with the literature.

Why: unit tests exercise the matcher on constructed genotypes. This script runs the library
on 3,202 real, phased genomes (../shared/data/1kgp, one VCF per gene) and checks what no
unit test can:

1. every sample gets, for every gene, either a call or a stated reason (exit 1 otherwise);
2. star-allele frequencies per super-population look like published values (a mis-built
   definition or a matcher bug shows up as an allele ten times too common, or missing);
3. how long a whole-gene batch takes, in strict mode (absent positions are missing) and in
   panel mode (``missing_to_ref=True``: absent positions read as reference, which this
   variant-only panel allows, see the shared README).

The frequency table uses panel-mode calls and shows which positions panel mode filled and
which alleles that hides or reports as another allele (CYP2B6 *6 is reported as *9).

    /tmp/dev/bin/python benchmarks/population_frequencies.py              # print the section
    /tmp/dev/bin/python benchmarks/population_frequencies.py --write      # and record it in RESULTS.md
    /tmp/dev/bin/python benchmarks/population_frequencies.py --genes CYP2C19 TPMT --samples-limit 200
"""

from __future__ import annotations

import argparse
import csv
import datetime
import platform
import re
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pysam
from results_md import RESULTS, machine, source_state, write_section

import pgx
from pgx.calling.models import CallReport, GeneCall
from pgx.calling.pipeline import call_vcf
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.knowledge.schema import IUPAC, Gene, NamedAllele
from pgx.matching.models import MissingPosition

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "1kgp"
SECTION = "## 1000 Genomes population sanity (GRCh38, 3202 samples)"

SUPER_POPS = ("AFR", "AMR", "EAS", "EUR", "SAS")
MODES = (("strict", False), ("panel", True))
TOP_ALLELES = 6
MIN_FREQUENCY = 0.01
FILLED_CODE = "filled_as_reference"

# Absent positions known to be common, from ../shared/README.md (section data/1kgp).
KNOWN_COMMON_GAPS = {
    ("CYP2B6", "rs2279343"): "785A>G, allele frequency ~0.3; failed the panel's filters in this duplicated region",
}


# -- expected values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A published frequency range (percent) of some alleles of a gene in one super-population.

    ``alleles`` names them; ``variant`` (rsid, base) instead takes every allele whose
    definition carries that base, read from the knowledge base.
    """

    gene: str
    label: str
    super_pop: str
    low: float
    high: float
    alleles: tuple[str, ...] = ()
    variant: tuple[str, str] | None = None

    def accepted(self) -> tuple[float, float]:
        if self.high < 10:
            return self.low / 1.5, self.high * 1.5
        return self.low - 5, self.high + 5

    def expected_text(self) -> str:
        return f"{self.low:g} %" if self.low == self.high else f"{self.low:g}–{self.high:g} %"


TOLERANCE_TEXT = (
    "✓ when the measured value lies within ±5 percentage points of the expected range, or within a"
    " factor 1.5 of it for expected values below 10 %"
)

EXPECTED = (
    Expected("CYP2C19", "CYP2C19*2", "EUR", 15, 15, alleles=("*2",)),
    Expected("CYP2C19", "CYP2C19*2", "EAS", 30, 30, alleles=("*2",)),
    Expected("CYP2C19", "CYP2C19*17", "EUR", 20, 20, alleles=("*17",)),
    Expected("CYP2C19", "CYP2C19*17", "EAS", 1, 3, alleles=("*17",)),
    Expected("CYP3A5", "CYP3A5*3", "EUR", 90, 90, alleles=("*3",)),
    Expected("CYP2C9", "CYP2C9*2", "EUR", 12, 12, alleles=("*2",)),
    Expected("CYP2C9", "CYP2C9*3", "EUR", 7, 7, alleles=("*3",)),
    Expected("VKORC1", "VKORC1 rs9923231 T", "EUR", 40, 40, variant=("rs9923231", "T")),
    Expected("VKORC1", "VKORC1 rs9923231 T", "EAS", 90, 90, variant=("rs9923231", "T")),
    Expected("SLCO1B1", "SLCO1B1 rs4149056 C", "EUR", 15, 15, variant=("rs4149056", "C")),
    Expected("TPMT", "TPMT*3A", "EUR", 3, 4, alleles=("*3A",)),
    Expected("NUDT15", "NUDT15*3", "EAS", 10, 10, alleles=("*3",)),
    Expected("NUDT15", "NUDT15 rs116855232 T (R139C)", "EAS", 10, 10, variant=("rs116855232", "T")),
    Expected("UGT1A1", "UGT1A1*28 TA repeat", "EUR", 30, 40, alleles=("*28", "*80+*28")),
)


# -- calling and counting ----------------------------------------------------------------------


def _floats() -> defaultdict[str, float]:
    return defaultdict(float)


@dataclass
class ModeResult:
    """One whole-gene ``call_vcf`` run, reduced to what the report needs."""

    wall: float
    cpu: float
    outcomes: Counter[str] = field(default_factory=Counter)  # "called" or the reason code
    example_reason: dict[str, str] = field(default_factory=dict)  # reason code -> first reason seen
    ambiguous: int = 0
    unexplained: list[str] = field(default_factory=list)  # samples with neither a call nor a reason
    missing: dict[int, MissingPosition] = field(default_factory=dict)  # union over samples
    missing_in: Counter[int] = field(default_factory=Counter)  # position -> samples missing it
    filled_warnings: set[str] = field(default_factory=set)
    weights: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(_floats))  # pop, allele
    haplotypes: dict[str, float] = field(default_factory=_floats)  # pop -> haplotypes counted

    @property
    def called(self) -> int:
        return self.outcomes["called"]

    def frequency(self, pop: str, alleles: Iterable[str]) -> float | None:
        total = self.haplotypes[pop]
        return sum(self.weights[pop][a] for a in alleles) / total if total else None


@dataclass(frozen=True)
class Hidden:
    """An allele panel mode cannot see, and the filled positions where it carries a variant."""

    allele: str
    positions: frozenset[int]


@dataclass
class GeneResult:
    gene: str
    strict: ModeResult
    panel: ModeResult
    _hidden: dict[str | None, list[Hidden]] | None = field(default=None, init=False, repr=False)

    def filled(self) -> list[MissingPosition]:
        """Positions missing in strict mode that panel mode no longer reports missing."""
        return [m for p, m in sorted(self.strict.missing.items()) if p not in self.panel.missing]

    def hidden(self, gene: Gene) -> dict[str | None, list[Hidden]]:
        """What panel mode's filled positions hide (see ``read_as``), computed once."""
        if self._hidden is None:
            self._hidden = read_as(gene, {m.position for m in self.filled()})
        return self._hidden

    def filled_count_in_warning(self) -> int | None:
        matches = (re.match(r"(\d+) position", w) for w in self.panel.filled_warnings)
        counts = {int(m.group(1)) for m in matches if m}
        return counts.pop() if len(counts) == 1 else None


def read_labels(panel: Path) -> dict[str, str]:
    with panel.open(newline="") as fh:
        return {row["sample"]: row["super_pop"] for row in csv.DictReader(fh, delimiter="\t")}


def sample_subset(vcf: Path, limit: int | None) -> list[str] | None:
    if limit is None:
        return None
    with pysam.VariantFile(str(vcf)) as fh:
        return list(fh.header.samples)[:limit]


def run_gene(vcf: Path, samples_limit: int | None, labels: dict[str, str]) -> GeneResult:
    gene = vcf.name.removesuffix(".vcf.gz")
    samples = sample_subset(vcf, samples_limit)
    modes = {name: run_mode(vcf, gene, flag, samples, labels) for name, flag in MODES}
    return GeneResult(gene, **modes)


def run_mode(
    vcf: Path, gene: str, missing_to_ref: bool, samples: list[str] | None, labels: dict[str, str]
) -> ModeResult:
    wall, cpu = time.perf_counter(), time.process_time()
    report = call_vcf(vcf, genes=[gene], missing_to_ref=missing_to_ref, samples=samples)
    result = ModeResult(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu)
    summarize(report, gene, labels, result)
    return result


def summarize(report: CallReport, gene: str, labels: dict[str, str], into: ModeResult) -> None:
    for sample in report.samples:
        calls = [c for c in sample.genes if c.gene == gene]
        problem = explain_problem(calls)
        if problem:
            into.unexplained.append(f"{sample.sample}: {problem}")
            continue
        call = calls[0]
        outcome = "called" if call.status == "called" else call.reason_code or "not_called"
        into.outcomes[outcome] += 1
        into.example_reason.setdefault(outcome, call.reason or "")
        into.ambiguous += len(call.diplotypes) > 1
        into.missing.update((m.position, m) for m in call.missing_positions)
        into.missing_in.update(m.position for m in call.missing_positions)
        into.filled_warnings.update(w.message for w in call.warnings if w.code == FILLED_CODE)
        pop = labels.get(sample.sample)
        if call.status == "called" and pop is not None:
            count_haplotypes(call, into.weights[pop], into.haplotypes, pop)


def explain_problem(calls: list[GeneCall]) -> str | None:
    """Why this sample has neither a call nor a stated reason, or None when it has one."""
    if len(calls) != 1:
        return f"{len(calls)} results for the gene"
    call = calls[0]
    if call.status == "called":
        return None if call.diplotypes else "called without a diplotype"
    return None if call.reason and call.reason.strip() else "not called and no reason given"


def count_haplotypes(call: GeneCall, weights: dict[str, float], totals: dict[str, float], pop: str) -> None:
    """Each of n tied diplotypes weighs 1/n; each of its haplotypes (one if hemizygous) counts that."""
    share = 1 / len(call.diplotypes)
    for diplotype in call.diplotypes:
        for haplotype in diplotype.haplotypes:
            weights[haplotype.name] += share
            totals[pop] += share


# -- what filling hides ------------------------------------------------------------------------


def allowed(base: str) -> frozenset[str]:
    """The bases a defining allele accepts (IUPAC wobble codes expanded)."""
    return IUPAC.get(base, frozenset({base}))


def read_as(gene: Gene, filled: set[int]) -> dict[str | None, list[Hidden]]:
    """Alleles that need a variant at a filled position, grouped by what panel mode can call them.

    A carrier's haplotype is the allele's definition with the filled positions set to
    reference. It is read as the most specific visible allele (most positions defined, as the
    matcher scores) that accepts it at every position: ``*6`` without rs2279343 is ``*9``,
    an allele defined only by filled positions is the reference. Key None: no allele accepts
    it, so such carriers are likely not called. Wobble codes that include the reference base
    (CYP2D6 ``*4``'s ``R``/``S``/``Y``) hide nothing.
    """
    refs = {p.position: p.ref for p in gene.positions}

    def needed_at_filled(allele: NamedAllele) -> frozenset[int]:
        return frozenset(p for p, b in allele.alleles.items() if p in filled and refs[p] not in allowed(b))

    def accepts(candidate: NamedAllele, haplotype: dict[int, str]) -> bool:
        return all(
            allowed(candidate.alleles.get(p, refs[p])) & allowed(haplotype.get(p, refs[p]))
            for p in candidate.alleles.keys() | haplotype.keys()
        )

    visible = sorted(
        (a for a in gene.named_alleles if not needed_at_filled(a) and a.name not in gene.quirks.ignored_alleles),
        key=lambda a: -len(a.alleles),
    )
    out: dict[str | None, list[Hidden]] = defaultdict(list)
    for allele in gene.named_alleles:
        if hidden_at := needed_at_filled(allele):
            haplotype = {p: refs[p] if p in filled else b for p, b in allele.alleles.items()}
            seen_as = next((c.name for c in visible if accepts(c, haplotype)), None)
            out[seen_as].append(Hidden(allele.name, hidden_at))
    return out


def known_gaps(r: GeneResult) -> dict[int, tuple[str, str]]:
    """Filled positions of this gene known to be common: position -> (rsid, why)."""
    filled = {m.rsid: m.position for m in r.filled()}
    return {
        filled[rsid]: (rsid, why)
        for (gene, rsid), why in KNOWN_COMMON_GAPS.items()
        if gene == r.gene and rsid in filled
    }


def reference(gene: Gene) -> str:
    return next(a.name for a in gene.named_alleles if a.reference)


def allele_names(gene: Gene, expected: Expected) -> tuple[str, ...]:
    if expected.variant is None:
        return expected.alleles
    rsid, base = expected.variant
    position = next(p.position for p in gene.positions if p.rsid == rsid)
    return tuple(a.name for a in gene.named_alleles if a.alleles.get(position) == base)


# -- markdown ----------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def names(hidden: Iterable[Hidden]) -> str:
    return ", ".join(h.allele for h in hidden)


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def render_header(kb: KnowledgeBase, total_wall: float, samples_limit: int | None) -> list[str]:
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    scope = f"the first {samples_limit} samples of each file" if samples_limit else "all samples"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        SECTION,
        "",
        "Written by `benchmarks/population_frequencies.py --write`: each GRCh38 gene file of the 1000",
        f"Genomes high-coverage panel in `../shared/data/1kgp` ({scope}), called with `call_vcf` one gene",
        "at a time, twice: strict (absent positions are missing) and panel mode (`missing_to_ref=True`).",
        "",
        f"- Machine: {machine()}",
        f"- Python {platform.python_version()}, pgx {pgx.__version__} "
        f"(source {source_state(['pgx', 'knowledge'], 'pgx/ or knowledge/')}),"
        f" knowledge {kb.version}",
        f"- Date: {now}",
        f"- Total wall time {total_wall:.1f} s (all genes, both modes, summaries included); peak RSS {rss_mib:.0f} MiB",
        "",
    ]


def render_timing(results: list[GeneResult]) -> list[str]:
    def times(r: GeneResult) -> list[float]:
        return [r.strict.wall, r.strict.cpu, r.panel.wall, r.panel.cpu]

    rows = [[r.gene, *(f"{t:.2f}" for t in times(r))] for r in results]
    totals = [sum(column) for column in zip(*map(times, results), strict=True)] if results else []
    rows.append(["**total**", *(f"**{t:.1f}**" for t in totals)])
    return [
        "### Time per whole-gene call (seconds)",
        "",
        *table(["Gene", "strict wall", "strict CPU", "panel wall", "panel CPU"], rows),
        "",
    ]


def outcome_cells(mode: ModeResult) -> list[str]:
    reasons = ", ".join(f"{code} {n}" for code, n in mode.outcomes.most_common() if code != "called")
    return [f"{mode.called} ({mode.ambiguous} ambiguous)", reasons or "–"]


def render_calls(results: list[GeneResult]) -> list[str]:
    def unexplained(r: GeneResult) -> int:
        return len(r.strict.unexplained) + len(r.panel.unexplained)

    rows = [[r.gene, *outcome_cells(r.strict), *outcome_cells(r.panel), str(unexplained(r))] for r in results]
    total = sum(map(unexplained, results))
    verdict = (
        f"**{total} sample-gene results have neither a call nor a reason.**"
        if total
        else "Every sample has a call or a stated reason for every gene, in both modes."
    )
    return [
        "### Calls and reasons per gene",
        "",
        "Samples called (of which ambiguous: several tied diplotypes) and not called, by reason code.",
        "",
        *table(["Gene", "strict called", "strict not called", "panel called", "panel not called", "neither"], rows),
        "",
        verdict,
        "",
    ]


def render_filled(results: list[GeneResult], kb: KnowledgeBase) -> list[str]:
    lines = [
        "### Positions panel mode filled as reference",
        "",
        "Panel mode reads each defining position absent from a file as homozygous reference and says",
        f"so in a `{FILLED_CODE}` warning and the call's `filled_positions`. The list below is the",
        "positions strict mode reports missing and panel mode does not. An allele with a variant at",
        "such a position cannot be seen: its carriers are called as the allele its other variants",
        "define, as the reference, or not at all.",
        "",
    ]
    for r in results:
        lines += filled_lines(r, kb.gene(r.gene))
    return lines + [""]


def filled_lines(r: GeneResult, gene: Gene) -> list[str]:
    filled = r.filled()
    if not filled:
        still = ", ".join(
            f"{m.rsid or m.position} ({r.panel.missing_in[p]} of {sum(r.panel.outcomes.values())} samples)"
            for p, m in r.panel.missing.items()
        )
        return [f"- **{r.gene}**: nothing filled" + (f"; missing in both modes: {still}" if still else "")]
    stated = r.filled_count_in_warning()
    text = f"- **{r.gene}**: {len(filled)} filled"
    if stated != len(filled):
        text += f" (the warning says {stated})"
    effects = r.hidden(gene)
    ref = reference(gene)
    shifted = [f"{names(src)} → {dst}" for dst, src in effects.items() if dst not in (None, ref)]
    if shifted:
        text += "; reported as another allele: " + "; ".join(shifted)
    text += f"; read as {ref}: {len(effects.get(ref, []))} alleles"
    if effects.get(None):
        text += f"; accepted by no allele (likely not called): {names(effects[None])}"
    where = ", ".join(f"{m.rsid or '–'} {gene.chromosome}:{m.position}" for m in filled)
    return [text, f"  <details><summary>filled positions</summary>{where}</details>"]


def render_known_gaps(results: list[GeneResult], kb: KnowledgeBase) -> list[str]:
    lines = []
    for r in results:
        gene = kb.gene(r.gene)
        effects = r.hidden(gene)
        for position, (rsid, why) in known_gaps(r).items():
            fates = [
                f"{names(hit)} as {dst or 'no allele (likely not called)'}"
                for dst, hidden in effects.items()
                if (hit := [h for h in hidden if position in h.positions])
            ]
            lines.append(
                f"- **{r.gene} {rsid}** ({gene.chromosome}:{position}) is absent from the file"
                f" although common ({why}). Panel mode reads it as reference, so it reports "
                + "; ".join(fates)
                + ". Table rows marked ⚠ hold those carriers."
            )
    return ["### Common positions missing from the panel", "", *lines, ""] if lines else []


def row_note(allele: str, effects: dict[str | None, list[Hidden]], common: dict[int, tuple[str, str]]) -> str:
    hidden = effects.get(allele, [])
    flagged = [h for h in hidden if h.positions & common.keys()]
    notes = []
    if flagged:
        rsids = sorted({common[p][0] for h in flagged for p in h.positions & common.keys()})
        notes.append(f"⚠ includes every {names(flagged)} ({', '.join(rsids)} absent though common)")
    if len(hidden) > len(flagged):
        rest = len(hidden) - len(flagged)
        notes.append(f"{'also ' if flagged else 'includes '}{rest} rarer unobservable alleles")
    return "; ".join(notes)


def gene_note(r: GeneResult) -> str:
    if not r.panel.called:
        return f"not callable from this file ({', '.join(r.panel.outcomes)}): no frequencies"
    more = {
        code: n - r.strict.outcomes[code]
        for code, n in r.panel.outcomes.items()
        if code != "called" and n > r.strict.outcomes[code]
    }
    if r.panel.called >= r.strict.called or not more:
        return ""
    why = "; ".join(f"{code} +{n}, e.g. “{r.panel.example_reason[code]}”" for code, n in more.items())
    return f"panel mode calls {r.strict.called - r.panel.called} fewer samples than strict: {why}"


def top_alleles(mode: ModeResult) -> list[str]:
    """Alleles by their highest frequency in any super-population, most common first."""
    best = _floats()
    for pop in SUPER_POPS:
        for allele in mode.weights[pop]:
            best[allele] = max(best[allele], mode.frequency(pop, [allele]) or 0.0)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return [allele for allele, f in ranked if f >= MIN_FREQUENCY][:TOP_ALLELES]


def gene_rows(r: GeneResult, gene: Gene) -> list[list[str]]:
    mode = r.panel
    counted = [f"{mode.haplotypes[p]:.0f}" for p in SUPER_POPS]
    rows = [[f"**{r.gene}**", "haplotypes counted", *counted, gene_note(r)]]
    effects = r.hidden(gene)
    common = known_gaps(r)
    for allele in top_alleles(mode):
        freqs = [pct(mode.frequency(p, [allele])) for p in SUPER_POPS]
        rows.append(["", allele, *freqs, row_note(allele, effects, common)])
    return rows


def render_frequencies(results: list[GeneResult], kb: KnowledgeBase) -> list[str]:
    rows = [row for r in results for row in gene_rows(r, kb.gene(r.gene))]
    return [
        "### Allele frequencies per super-population (panel-mode calls, %)",
        "",
        f"Up to {TOP_ALLELES} alleles per gene with a frequency of at least {100 * MIN_FREQUENCY:.0f} %",
        "in some super-population. Only called samples among the 2,514 with a population label count;",
        "a diplotype among n tied candidates weighs 1/n, and a hemizygous call counts one haplotype.",
        "Panel mode is used because the files are variant-only; the filled positions above say what it",
        "hides.",
        "",
        *table(["Gene", "Allele", *SUPER_POPS, "Notes"], rows),
        "",
    ]


def check_rows(results: list[GeneResult], kb: KnowledgeBase, data: Path) -> list[list[str]]:
    by_gene = {r.gene: r for r in results}
    rows = []
    for exp in EXPECTED:
        if exp.gene not in by_gene:
            rows.append([exp.label, exp.super_pop, exp.expected_text(), "not run", "", ""])
            continue
        counted = allele_names(kb.gene(exp.gene), exp)
        measured = by_gene[exp.gene].panel.frequency(exp.super_pop, counted)
        low, high = exp.accepted()
        ok = measured is not None and low <= 100 * measured <= high
        rows.append(
            [
                exp.label,
                exp.super_pop,
                exp.expected_text(),
                f"{pct(measured)} %",
                ", ".join(counted),
                "✓" if ok else "✗",
            ]
        )
    absent = not (data / "GRCh38" / "DPYD.vcf.gz").exists()
    found = "absent" if absent else "present"
    rows.append(["DPYD in GRCh38 copy", "–", "absent", found, "–", "✓" if absent else "✗"])
    return rows


def render_checks(results: list[GeneResult], kb: KnowledgeBase, data: Path) -> list[str]:
    return [
        "### Sanity checks against published frequencies",
        "",
        f"Panel-mode frequencies of the labelled samples; {TOLERANCE_TEXT}. In this knowledge base",
        "the CYP2C19 reference allele is `*38` and `*1` is a separately defined haplotype. The UGT1A1",
        "line counts the `*28` TA repeat (A(TA)7TAA; TA[8] in the knowledge base's HGVS) alone and",
        "inside the combined allele `*80+*28`. Variant lines count every allele whose definition carries",
        "the variant. Published NUDT15*3 figures usually count every R139C carrier (genotyping rarely",
        "separates `*2` from `*3`), hence the second NUDT15 line.",
        "",
        *table(["Check", "Pop", "Expected", "Measured", "Alleles counted", ""], check_rows(results, kb, data)),
        "",
    ]


def render(
    results: list[GeneResult], kb: KnowledgeBase, data: Path, total_wall: float, samples_limit: int | None
) -> str:
    parts = [
        render_header(kb, total_wall, samples_limit),
        render_timing(results),
        render_calls(results),
        render_filled(results, kb),
        render_known_gaps(results, kb),
        render_frequencies(results, kb),
        render_checks(results, kb, data),
    ]
    return "\n".join(line for part in parts for line in part).rstrip() + "\n"


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="1kgp folder (default: %(default)s)")
    parser.add_argument("--genes", nargs="+", metavar="GENE", help="only these gene files")
    parser.add_argument("--samples-limit", type=int, metavar="N", help="only the first N samples of a file")
    parser.add_argument("--write", action="store_true", help="record the section in benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.write and (args.genes or args.samples_limit):
        parser.error("--write records full runs only; drop --genes and --samples-limit")
    return args


def gene_files(data: Path, genes: list[str] | None) -> list[Path]:
    files = {p.name.removesuffix(".vcf.gz"): p for p in sorted((data / "GRCh38").glob("*.vcf.gz"))}
    unknown = sorted(set(genes or []) - set(files))
    if unknown:
        sys.exit(f"no GRCh38 file for {', '.join(unknown)} in {data}")
    return [files[g] for g in (genes or files)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    kb = load_knowledge()  # cached, so no gene's timing includes loading it
    labels = read_labels(args.data / "samples.panel")
    results = []
    for vcf in gene_files(args.data, args.genes):
        result = run_gene(vcf, args.samples_limit, labels)
        results.append(result)
        print(f"{result.gene}: strict {result.strict.wall:.2f} s, panel {result.panel.wall:.2f} s", file=sys.stderr)
    section = render(results, kb, args.data, time.perf_counter() - start, args.samples_limit)
    print(section)
    if args.write:
        write_section(SECTION, section, RESULTS)
        print(f"wrote {RESULTS}", file=sys.stderr)
    unexplained = [f"{r.gene} {s}" for r in results for s in r.strict.unexplained + r.panel.unexplained]
    for line in unexplained[:20]:
        print(f"no call and no reason: {line}", file=sys.stderr)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
