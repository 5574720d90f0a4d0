"""Outside calls: diplotypes/phenotypes/activity scores made by another tool or lab test.

Two TSV layouts are accepted:

* with a header row naming columns among ``sample``, ``gene``, ``diplotype``, ``phenotype``,
  ``activity_score`` (``activity score`` also accepted), one row per sample and gene;
* the reference tool's layout without header: ``gene, diplotype[, phenotype[, activity score]]``,
  applied to every sample in the VCF.

An outside call replaces the VCF call for that gene, with a note. For activity-score genes
a given activity score decides the phenotype; otherwise a given phenotype beats the one
derived from the diplotype. Several rows for one sample and gene are several possible
diplotypes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pgx.calling.models import DiplotypeCall, GeneCall, HaplotypeCall, InputFile
from pgx.calling.results import distinct
from pgx.diplotype import Diplotype
from pgx.errors import OutsideCallError
from pgx.fileio import sha256_file
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import Gene
from pgx.matching.models import Message
from pgx.phenotype.phenotyper import allele_facts, phenotype_from_functions, phenotype_from_score

ALL_SAMPLES = "*"
_COPIES = re.compile(r"^(?P<name>.+?)x(?P<ge>≥|>=)?(?P<n>\d+)$")
_HLA = re.compile(r"^\*\d{2,3}:\d{2,3}(:\d{2,3})*[A-Z]?$")
_HLA_SUFFIX = re.compile(r"^(\*\d{2,3}:\d{2,3}(?::\d{2,3})*)([A-Z]?)$")
COLUMNS = {"sample", "gene", "diplotype", "phenotype", "activity_score"}


@dataclass
class OutsideRow:
    line: int
    sample: str
    gene: str
    diplotype: str | None
    phenotype: str | None
    activity_score: float | None


@dataclass
class OutsideCalls:
    input_file: InputFile
    path: str
    kb: KnowledgeBase
    rows: dict[tuple[str, str], list[OutsideRow]] = field(default_factory=dict)

    def _rows(self, sample: str, gene: str) -> list[OutsideRow]:
        return self.rows.get((sample, gene)) or self.rows.get((ALL_SAMPLES, gene)) or []

    def override(self, sample: str, vcf_call: GeneCall) -> GeneCall:
        rows = self._rows(sample, vcf_call.gene)
        if not rows:
            return vcf_call
        call = self.to_call(self.kb.gene(vcf_call.gene), rows)
        vcf_summary = (
            " or ".join(d.name for d in vcf_call.diplotypes)
            if vcf_call.status == "called"
            else f"not called ({vcf_call.reason})"
        )
        call.warnings.insert(
            0,
            Message(
                code="outside_call",
                message=f"outside call ({self.path} line {rows[0].line}) replaces the VCF call {vcf_summary}",
            ),
        )
        return call

    def outside_only_calls(self, sample: str, already: set[str], wanted: set[str] | None) -> list[GeneCall]:
        genes = sorted({g for (s, g) in self.rows if s in (sample, ALL_SAMPLES)} - already)
        out = []
        for g in genes:
            if wanted is not None and g not in wanted:
                continue
            call = self.to_call(self.kb.gene(g), self._rows(sample, g))
            rows = self._rows(sample, g)
            call.warnings.insert(
                0, Message(code="outside_call", message=f"outside call ({self.path} line {rows[0].line})")
            )
            out.append(call)
        return out

    def to_call(self, gene: Gene, rows: list[OutsideRow]) -> GeneCall:
        dips: list[DiplotypeCall] = []
        warnings: list[Message] = []
        for row in rows:
            dips.extend(self._diplotypes(gene, row, warnings))
        phenos = distinct([d.phenotype for d in dips])
        if gene.phenotyping.method == "allele_status":
            phenos = _status_phenotypes(gene, rows)
        return GeneCall(
            gene=gene.gene,
            status="called",
            source="outside_call",
            diplotypes=dips,
            phenotypes=phenos,
            activity_scores=distinct([d.activity_score for d in dips]),
            warnings=warnings,
        )

    def _diplotypes(self, gene: Gene, row: OutsideRow, warnings: list[Message]) -> list[DiplotypeCall]:
        haps: list[HaplotypeCall] = []
        if row.diplotype:
            for part in Diplotype.parse(row.diplotype).haplotypes:
                hap = _haplotype(gene, part)
                if hap.function is None and hap.activity_value is None and _has_facts(gene):
                    warnings.append(
                        Message(
                            code="outside_unknown_allele",
                            message=f"line {row.line}: {hap.name} is not in the pgx knowledge base "
                            f"for {gene.gene}; its function is unknown",
                        )
                    )
                haps.append(hap)
        method = gene.phenotyping.method
        derived = _derived_score(haps) if method == "activity_score" else None
        score: float | None = None
        phenotype: str | None = None
        if method == "activity_score" and row.activity_score is not None:  # a given score decides
            score = row.activity_score
            phenotype = phenotype_from_score(gene, score)
            if row.phenotype and row.phenotype.lower() != phenotype.lower():
                warnings.append(
                    Message(
                        code="outside_phenotype_disagrees",
                        message=f"line {row.line}: phenotype {row.phenotype!r} disagrees with activity "
                        f"score {score:g} ({phenotype}); the activity score decides",
                    )
                )
        elif row.phenotype:  # then a given phenotype
            phenotype = row.phenotype
            if derived is not None and phenotype_from_score(gene, derived).lower() == phenotype.lower():
                score = derived
            elif derived is not None:
                warnings.append(
                    Message(
                        code="outside_phenotype_disagrees",
                        message=f"line {row.line}: diplotype {row.diplotype} gives activity score "
                        f"{derived:g} ({phenotype_from_score(gene, derived)}); the given phenotype "
                        f"{row.phenotype!r} decides and no activity score is reported",
                    )
                )
        elif haps:  # then the diplotype
            if method == "activity_score":
                score = derived
                phenotype = phenotype_from_score(gene, derived)
            elif method == "function_pair":
                phenotype = phenotype_from_functions(gene, [h.function for h in haps])
            elif method == "haplotype":
                phenotype = gene.phenotyping.haplotype_phenotypes.get(haps[0].name, gene.phenotyping.indeterminate)
        if haps:
            name = "/".join(h.label for h in haps)
        else:
            name = row.phenotype or (f"activity score {score:g}" if score is not None else "")
        return [DiplotypeCall(name=name, haplotypes=haps, phenotype=phenotype, activity_score=score)]


def _derived_score(haps: list[HaplotypeCall]) -> float | None:
    if not haps or any(h.activity_value is None for h in haps):
        return None
    return sum((h.activity_value or 0.0) * h.copies for h in haps)


def _has_facts(gene: Gene) -> bool:
    return bool(gene.named_alleles) or bool(gene.phenotyping.haplotype_phenotypes)


def _haplotype(gene: Gene, text: str) -> HaplotypeCall:
    """One haplotype of an outside call: a named allele, ``*2x2``, or a tandem such as ``*36+*10``.

    A tandem's activity is the sum of its parts (CPIC); its function is stated only when all
    parts share one. Alleles pgx does not know keep an unknown function rather than failing.
    """
    copies = 1
    name = text
    m = _COPIES.match(text)
    if m and not text.startswith("rs"):
        name, copies = m.group("name"), int(m.group("n"))
    label_min = gene.quirks.copy_number.max_copies_label if gene.quirks.copy_number else 3
    parts = [p.strip() for p in name.split("+")] if gene.quirks.copy_number is not None else [name]
    facts = [allele_facts(gene, p) for p in parts]
    if len(parts) == 1:
        function, activity = facts[0]
    else:
        functions = {f for f, _ in facts}
        function = functions.pop() if len(functions) == 1 else None
        acts = [a for _, a in facts]
        activity = None if any(a is None for a in acts) else sum(acts)  # type: ignore[arg-type]
    label = f"{name}x≥{label_min}" if copies >= label_min else f"{name}x{copies}" if copies > 1 else name
    return HaplotypeCall(name=name, label=label, function=function, activity_value=activity, copies=copies)


def _status_phenotypes(gene: Gene, rows: list[OutsideRow]) -> list[str]:
    carried: set[str] = set()
    explicit: list[str] = []
    for row in rows:
        if row.diplotype:
            carried.update(Diplotype.parse(row.diplotype).haplotypes)
        if row.phenotype:
            explicit.append(row.phenotype)
    if explicit and not any(r.diplotype for r in rows):
        return explicit

    # "*57:01:01" is a *57:01 allele at higher resolution; a P or G group suffix names the same
    # protein. An expression suffix (N null, L low, S secreted, Q questionable) leaves the
    # allele's status open: it is reported as not typed rather than guessed either way.
    plain: set[str] = set()
    unsure: set[str] = set()
    for c in carried:
        m = _HLA_SUFFIX.match(c)
        if m is None:
            plain.add(c)
        elif m.group(2) in ("", "P", "G"):
            plain.add(m.group(1))
        else:
            unsure.add(m.group(1))

    def matches(names: set[str], allele: str) -> bool:
        return any(c == allele or c.startswith(allele + ":") for c in names)

    return [
        f"{a} {'positive' if matches(plain, a) else 'negative'}"
        for a in gene.phenotyping.status_alleles
        if matches(plain, a) or not matches(unsure, a)
    ]


def canonical_allele(gene: Gene, name: str) -> str:
    """Accept the usual short forms: mitochondrial variants without their ``m.`` prefix."""
    known = {a.name for a in gene.named_alleles} | set(gene.phenotyping.haplotype_phenotypes)
    if name not in known and gene.quirks.ploidy == "mitochondrial" and f"m.{name}" in known:
        return f"m.{name}"
    return name


def _valid_allele(gene: Gene, name: str) -> bool:
    """Only what can be checked without knowing every allele: HLA names must be HLA-shaped."""
    if gene.phenotyping.method == "allele_status":
        return bool(_HLA.match(name))
    return bool(name)


def read_outside_calls(path: str | Path, kb: KnowledgeBase, samples: list[str]) -> OutsideCalls:
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutsideCallError(path, "file not found") from None
    except UnicodeDecodeError:
        raise OutsideCallError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise OutsideCallError(path, f"cannot read ({exc.strerror})") from None
    lines = [(i, ln.rstrip("\r\n")) for i, ln in enumerate(text.splitlines(), start=1)]
    content = [(i, ln) for i, ln in lines if ln.strip() and not ln.startswith("#")]
    if not content:
        raise OutsideCallError(path, "no outside calls in file")
    first = [c.strip().lower().replace(" ", "_") for c in content[0][1].split("\t")]
    if "gene" in first:
        unknown = [c for c in first if c not in COLUMNS]
        if unknown:
            raise OutsideCallError(
                path,
                f"unknown column {unknown[0]!r}",
                line=content[0][0],
                hint=f"columns: {', '.join(sorted(COLUMNS))}",
            )
        columns = first
        body = content[1:]
    else:
        columns = ["gene", "diplotype", "phenotype", "activity_score"]
        body = content
    rows: dict[tuple[str, str], list[OutsideRow]] = defaultdict(list)
    sample_set = set(samples)
    for lineno, line in body:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) > len(columns):
            raise OutsideCallError(path, f"{len(cells)} columns, expected at most {len(columns)}", line=lineno)
        rec = dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=True))
        gene_name = rec.get("gene", "")
        if gene_name not in kb.genes:
            raise OutsideCallError(
                path, f"unknown gene {gene_name!r}", line=lineno, hint=f"known genes: {', '.join(sorted(kb.genes))}"
            )
        gene = kb.gene(gene_name)
        sample = rec.get("sample") or ALL_SAMPLES
        if sample != ALL_SAMPLES and sample not in sample_set:
            raise OutsideCallError(path, f"sample {sample!r} is not in the VCF", line=lineno)
        score = None
        if rec.get("activity_score"):
            try:
                score = float(rec["activity_score"].lstrip("≥"))
            except ValueError:
                raise OutsideCallError(
                    path, f"activity score {rec['activity_score']!r} is not a number", line=lineno
                ) from None
        dip = rec.get("diplotype") or None
        pheno = rec.get("phenotype") or None
        if not (dip or pheno or score is not None):
            raise OutsideCallError(path, f"{gene_name}: no diplotype, phenotype or activity score", line=lineno)
        if dip:
            dip = "/".join(canonical_allele(gene, p) for p in Diplotype.parse(dip).haplotypes)
            for part in Diplotype.parse(dip).haplotypes:
                if not _valid_allele(gene, part):
                    raise OutsideCallError(
                        path,
                        f"{gene_name}: invalid allele {part.strip()!r}",
                        line=lineno,
                        hint="HLA alleles are written like *57:01; diplotypes as A/B",
                    )
        rows[(sample, gene_name)].append(OutsideRow(lineno, sample, gene_name, dip, pheno, score))
    info = InputFile(name=Path(path).name, sha256=sha256_file(path), format="tsv")
    return OutsideCalls(input_file=info, path=Path(path).name, kb=kb, rows=dict(rows))
