"""Curator tools: validate a rule folder, run its test cases, and diff two rule bases.

``validate`` keeps going after the first problem so a curator sees everything at once:
schema errors, names the knowledge base does not know, rules that contradict each other for
the same patient, and phenotypes no rule covers (a gap report, as warnings).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pgx.diplotype import Diplotype
from pgx.errors import RuleError
from pgx.knowledge.loader import KnowledgeBase
from pgx.patient.conversion import apply_medications
from pgx.patient.state import Conversion, GeneOption, GeneResult, PatientState, from_phenotypes
from pgx.phenotype.phenotyper import gene_phenotypes, phenotype_from_score
from pgx.rules.engine import condition_holds, evaluate_drug, rule_groups
from pgx.rules.loader import RuleBase, filename_for
from pgx.rules.outcome import DrugOutcome
from pgx.rules.schema import ACTION_SEVERITY, GeneCondition, LookupRule, RuleFile, RuleTestFile
from pgx.yamlio import MarkedDocument, load_marked, validate_document


@dataclass
class Problem:
    path: str
    line: int | None
    column: int | None
    message: str
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.column else "")
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}: {self.severity}: {self.message}{hint}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    rules: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def _check_condition(kb: KnowledgeBase, c: GeneCondition) -> tuple[str, str | None] | None:
    """(problem, field) when a condition names something the knowledge base does not know."""
    if c.gene not in kb.genes:
        return f"unknown gene {c.gene!r}", "gene"
    gene = kb.gene(c.gene)
    if c.phenotypes is not None:
        known = {p.lower() for p in gene_phenotypes(gene)}
        bad = [p for p in c.phenotypes if p.lower() not in known]
        if bad:
            return f"unknown {c.gene} phenotype {bad[0]!r}", "phenotypes"
    if c.diplotypes is not None:
        names = {a.name for a in gene.named_alleles} | {a.name for a in gene.structural_alleles}
        bad = [h for d in c.diplotypes for h in Diplotype.parse(d).haplotypes if h not in names]
        if bad:
            return f"unknown {c.gene} allele {bad[0]!r}", "diplotypes"
    if c.allele_status is not None and c.allele_status.allele not in gene.phenotyping.status_alleles:
        return f"{c.gene} has no allele status for {c.allele_status.allele}", "allele_status"
    if c.activity_score is not None and gene.phenotyping.method != "activity_score":
        return f"{c.gene} has no activity score", "activity_score"
    return None


def _examples(kb: KnowledgeBase, c: GeneCondition) -> list[GeneOption | None]:
    """Concrete results that satisfy a condition, to probe for overlaps."""
    if c.not_tested:
        return [None]
    if c.phenotypes is not None:
        if c.by_comedication:
            conv = Conversion(genotype_phenotype=None, perpetrators=("a perpetrator",), effect="probe", note="")
            return [GeneOption(phenotype=p, conversion=conv) for p in c.phenotypes]
        return [GeneOption(phenotype=p) for p in c.phenotypes]
    if c.activity_score is not None:
        lo = c.activity_score.min if c.activity_score.min is not None else 0.0
        return [GeneOption(activity_score=lo)]
    if c.allele_status is not None:
        return [GeneOption(allele_status={c.allele_status.allele: c.allele_status.positive})]
    return [GeneOption(diplotype=d) for d in c.diplotypes or []]


def _complete(kb: KnowledgeBase, gene: str, opt: GeneOption) -> GeneOption:
    """Fill in what a real call would carry: a diplotype's phenotype and score, a score's phenotype."""
    if gene not in kb.genes:
        return opt
    g = kb.gene(gene)
    if opt.activity_score is not None and opt.phenotype is None and g.phenotyping.method == "activity_score":
        return opt.model_copy(update={"phenotype": phenotype_from_score(g, opt.activity_score)})
    return opt


def condition_examples(kb: KnowledgeBase, conditions: list[GeneCondition]) -> list[dict[str, GeneOption | None]]:
    """Patients (as gene results) who meet every condition of a rule."""
    per_gene = [
        [(c.gene, _complete(kb, c.gene, o) if o is not None else None) for o in _examples(kb, c)] for c in conditions
    ]
    return [dict(combo) for combo in itertools.islice(itertools.product(*per_gene), 1000)]


def _probe_states(kb: KnowledgeBase, rules: list[LookupRule]) -> Iterable[dict[str, GeneOption | None]]:
    genes = sorted({c.gene for r in rules for c in r.condition})
    per_gene: dict[str, list[GeneOption | None]] = {g: [] for g in genes}
    for r in rules:
        for c in r.condition:
            for ex in _examples(kb, c):
                if ex not in per_gene[c.gene]:
                    per_gene[c.gene].append(ex)
    combos = itertools.product(*(per_gene[g] for g in genes))
    for combo in itertools.islice(combos, 20000):
        yield {g: (_complete(kb, g, o) if o is not None else None) for g, o in zip(genes, combo, strict=True)}


def conflicts(kb: KnowledgeBase, rules: list[LookupRule]) -> list[tuple[LookupRule, LookupRule, dict[str, str]]]:
    """Pairs of equally specific rules (same drug and source) that both fire for some patient with different actions."""
    out: list[tuple[LookupRule, LookupRule, dict[str, str]]] = []
    seen: set[tuple[str, str]] = set()
    for rs in rule_groups(rules):
        for state in _probe_states(kb, rs):
            hits = [r for r in rs if all(condition_holds(c, state.get(c.gene)) for c in r.condition)]
            if len(hits) < 2:
                continue
            best = max(r.specificity for r in hits)
            top = [r for r in hits if r.specificity == best]
            for a, b in itertools.combinations(top, 2):
                key = tuple(sorted((a.id, b.id)))
                if a.action != b.action and key not in seen:
                    seen.add(key)  # type: ignore[arg-type]
                    label = {
                        g: (o.phenotype or o.diplotype or str(o.activity_score)) if o else "not tested"
                        for g, o in state.items()
                    }
                    out.append((a, b, label))
    return out


def gaps(kb: KnowledgeBase, rules: list[LookupRule]) -> list[tuple[str, str, str]]:
    """(source, gene, phenotype) of single-gene phenotype rules' genes that no rule of the source covers."""
    out = []
    by_source: dict[str, list[LookupRule]] = {}
    for r in rules:
        by_source.setdefault(r.source, []).append(r)
    for source, rs in by_source.items():
        single = {r.condition[0].gene for r in rs if len(r.condition) == 1 and r.condition[0].phenotypes is not None}
        for gene in sorted(single):
            if gene not in kb.genes:
                continue
            covered: set[str] = set()
            for r in rs:
                for c in r.condition:
                    if c.gene == gene and c.phenotypes:
                        covered |= {p.lower() for p in c.phenotypes}
            for p in sorted(gene_phenotypes(kb.gene(gene))):
                if p.lower() not in covered:
                    out.append((source, gene, p))
    return out


def _rule_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.glob("*.yaml")
        if p.name not in ("manifest.yaml", "curation.yaml") and not p.name.startswith("overrides")
    )


def validate_folder(kb: KnowledgeBase, root: Path) -> Report:
    rep = Report()
    ids: dict[str, str] = {}
    known_drugs = {d.name for d in kb.drugs.drugs} if kb.drugs else set()
    for path in _rule_files(root):
        rep.files += 1
        label = str(path)
        try:
            doc = load_marked(label)
            rf: RuleFile = validate_document(doc, RuleFile, RuleError)
        except RuleError as exc:
            rep.problems.append(Problem(exc.path, exc.line, exc.column, exc.message.split(": ", 1)[-1], exc.hint))
            continue
        if filename_for(rf.drug) != path.stem:
            rep.problems.append(
                Problem(
                    label,
                    *doc.locate(["drug"]),
                    f"drug {rf.drug!r} does not match the file name",
                    hint=f"name the file {filename_for(rf.drug)}.yaml",
                )
            )
        rep.rules += len(rf.rules)
        lookup = [r for r in rf.rules if isinstance(r, LookupRule)]
        for i, rule in enumerate(rf.rules):
            where = doc.locate(["rules", i, "id"])
            if rule.id in ids:
                rep.problems.append(Problem(label, *where, f"rule id {rule.id!r} also used in {ids[rule.id]}"))
            ids[rule.id] = label
            if not (rule.citation.url or rule.citation.pmids):
                rep.problems.append(
                    Problem(
                        label,
                        *doc.locate(["rules", i, "citation"]),
                        f"rule {rule.id!r} cites no guideline",
                        hint="give citation.url or citation.pmids",
                    )
                )
            for d in rule.drugs:
                if known_drugs and d not in known_drugs:
                    rep.problems.append(
                        Problem(
                            label,
                            *doc.locate(["rules", i, "drugs"]),
                            f"unknown drug {d!r}",
                            hint="add it to knowledge/drug_curation.yaml",
                        )
                    )
            if isinstance(rule, LookupRule):
                for j, c in enumerate(rule.condition):
                    bad = _check_condition(kb, c)
                    if bad is not None:
                        message, fld = bad
                        loc = doc.locate(["rules", i, "condition", j, fld] if fld else ["rules", i, "condition", j])
                        rep.problems.append(
                            Problem(label, *loc, message, hint="names come from knowledge/genes/*.yaml")
                        )
        position = {r.id: k for k, r in enumerate(rf.rules)}
        checkable = [r for r in lookup if all(_check_condition(kb, c) is None for c in r.condition)]
        for a, b, state in conflicts(kb, checkable):
            line, col = doc.locate(["rules", position[b.id], "action"])
            who = ", ".join(f"{g} {v}" for g, v in state.items())
            rep.problems.append(
                Problem(
                    label,
                    line,
                    col,
                    f"rules {a.id} ({a.action}) and {b.id} ({b.action}) both apply to {who}",
                    hint="make the conditions disjoint or the actions agree",
                )
            )
        for source, gene, phenotype in gaps(kb, checkable):
            rep.problems.append(
                Problem(label, None, None, f"{source}: no rule covers {gene} {phenotype}", severity="warning")
            )
    if rep.files == 0:
        rep.problems.append(Problem(str(root), None, None, "no rule files found"))
    return rep


def _state_for(
    test_gene_phenotypes: dict[str, str],
    kb: KnowledgeBase,
    activity: dict[str, float],
    diplotypes: dict[str, str],
    meds: list[str],
) -> PatientState:
    state = from_phenotypes("test", test_gene_phenotypes, activity, diplotypes, meds)
    genes = {
        g: r.model_copy(update={"options": tuple(_complete(kb, g, o) for o in r.options)})
        for g, r in state.genes.items()
    }
    return state.model_copy(update={"genes": genes})


@dataclass
class TestResult:
    path: str
    line: int | None
    name: str
    passed: bool
    detail: str


def source_actions(outcome: DrugOutcome) -> dict[str, str | None]:
    """Per source, the most severe action of its recommendations (DPWG may give one per gene)."""
    got: dict[str, str | None] = {}
    for s in outcome.sources:
        prev = got.get(s.source)
        if s.action is not None and (prev is None or ACTION_SEVERITY[s.action] < ACTION_SEVERITY[prev]):
            got[s.source] = s.action
        else:
            got.setdefault(s.source, prev)
    return got


def run_tests(
    kb: KnowledgeBase, rb: RuleBase, tests: dict[str, RuleTestFile], docs: dict[str, MarkedDocument] | None = None
) -> list[TestResult]:
    out = []
    for path, tf in tests.items():
        for i, t in enumerate(tf.tests):
            line = docs[path].locate(["tests", i, "name"])[0] if docs and path in docs else None
            state = apply_medications(kb, _state_for(t.phenotypes, kb, t.activity_scores, t.diplotypes, t.medications))
            outcome = evaluate_drug(rb, t.drug, state)
            got = source_actions(outcome)
            wrong = {src: (want, got.get(src)) for src, want in t.expect.items() if got.get(src) != want}
            detail = "; ".join(f"{src}: expected {w}, got {g}" for src, (w, g) in wrong.items())
            out.append(TestResult(path, line, t.name, not wrong, detail))
    return out


def load_tests(root: Path) -> tuple[dict[str, RuleTestFile], dict[str, MarkedDocument]]:
    tests: dict[str, RuleTestFile] = {}
    docs: dict[str, MarkedDocument] = {}
    for p in sorted((root / "tests").glob("*.yaml")):
        doc = load_marked(str(p))
        tests[str(p)] = validate_document(doc, RuleTestFile, RuleError)
        docs[str(p)] = doc
    return tests, docs


# ---------------------------------------------------------------------------------- diff


@dataclass
class RuleChange:
    kind: str  # added | removed | changed
    rule_id: str
    drug: str
    fields: list[str] = field(default_factory=list)


@dataclass
class ActionChange:
    drug: str
    who: str  # a phenotype combination or a sample
    old: str | None
    new: str | None


def rule_changes(old: RuleBase, new: RuleBase) -> list[RuleChange]:
    def index(rb: RuleBase) -> dict[str, tuple[str, dict[str, object]]]:
        return {r.id: (drug, r.model_dump(exclude={"provenance"})) for drug, rf in rb.files.items() for r in rf.rules}

    a, b = index(old), index(new)
    out = [RuleChange("removed", rid, a[rid][0]) for rid in sorted(set(a) - set(b))]
    out += [RuleChange("added", rid, b[rid][0]) for rid in sorted(set(b) - set(a))]
    for rid in sorted(set(a) & set(b)):
        fields = sorted(k for k in set(a[rid][1]) | set(b[rid][1]) if a[rid][1].get(k) != b[rid][1].get(k))
        if fields:
            out.append(RuleChange("changed", rid, b[rid][0], fields))
    return out


def _summary(rb: RuleBase, drug: str, state: PatientState) -> str | None:
    outcome = evaluate_drug(rb, drug, state)
    parts = [f"{s.source}={s.action or s.status}" for s in sorted(outcome.sources, key=lambda s: s.source)]
    return ", ".join(parts) or None


def action_changes(kb: KnowledgeBase, old: RuleBase, new: RuleBase, drugs: Iterable[str]) -> list[ActionChange]:
    """Phenotype combinations (probed from both rule bases' conditions) whose outcome differs."""
    out = []
    for drug in sorted(set(drugs)):
        rules = [r for rb in (old, new) for r in rb.rules_for(drug) if isinstance(r, LookupRule)]
        seen: set[tuple[tuple[str, str], ...]] = set()
        for probe in _probe_states(kb, rules):
            key = tuple(sorted((g, repr(o)) for g, o in probe.items()))
            if key in seen:
                continue
            seen.add(key)
            genes = {
                g: GeneResult(gene=g, called=o is not None, options=(o,) if o else (), reason="not tested")
                for g, o in probe.items()
            }
            state = PatientState(sample="probe", genes=genes)
            a, b = _summary(old, drug, state), _summary(new, drug, state)
            if a != b:
                who = ", ".join(
                    f"{g} {(o.phenotype or o.diplotype or o.activity_score) if o else 'not tested'}"
                    for g, o in sorted(probe.items())
                )
                out.append(ActionChange(drug, who, a, b))
    return out


def sample_changes(
    old: RuleBase, new: RuleBase, states: list[PatientState], drugs: Iterable[str]
) -> list[ActionChange]:
    out = []
    for state in states:
        for drug in sorted(set(drugs)):
            a, b = _summary(old, drug, state), _summary(new, drug, state)
            if a != b:
                out.append(ActionChange(drug, state.sample, a, b))
    return out
