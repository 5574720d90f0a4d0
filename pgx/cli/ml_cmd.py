"""`pgx ml ...`: train, evaluate and inspect the re-ranker; a thin shell over pgx.ml."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pgx import api
from pgx.cli.common import emit, out
from pgx.errors import UsageError
from pgx.fileio import atomic_write_text
from pgx.knowledge.loader import load_knowledge

if TYPE_CHECKING:
    from pgx.ml.ranker import Dataset

ml_app = typer.Typer(help="Train, evaluate and inspect pgx's ML models.", no_args_is_help=True)

Vcf = Annotated[Path | None, typer.Option("--vcf", help="VCF holding the samples the outcomes name")]
Calls = Annotated[Path | None, typer.Option("--calls", help="`pgx call` JSON holding the samples the outcomes name")]


def _dataset(outcomes: Path, vcf: Path | None, calls: Path | None) -> Dataset:
    from pgx.ml.outcomes import read_outcomes, row_states
    from pgx.ml.ranker import build_dataset  # scikit-learn: loaded when an ml command runs
    from pgx.rules.loader import load_rules

    if vcf is not None and calls is not None:
        raise UsageError("give --vcf or --calls, not both")
    kb, rb = load_knowledge(), load_rules()
    rows = read_outcomes(outcomes, kb)
    report = None
    if vcf is not None:
        wanted = sorted({r.sample for r in rows if r.sample and not r.phenotypes})
        report = api.call(vcf, samples=wanted or None, knowledge=kb)
    elif calls is not None:
        report = api.read_calls(calls)
    return build_dataset(kb, rb, rows, row_states(outcomes, rows, kb, report))


def _summary(m: dict[str, Any]) -> str:
    return (
        f"n {m['n']} ({m['responders']} responded, base rate {m['base_rate']:.3f}); ROC AUC {m['roc_auc']:.3f}; "
        f"Brier {m['brier']:.4f} vs base-rate Brier {m['brier_base_rate']:.4f}"
    )


@ml_app.command("train")
def train_cmd(
    outcomes: Annotated[Path, typer.Argument(help="Outcomes CSV: patient_id, drug, responded, ... (see README)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the model, its card and diagram")],
    vcf: Vcf = None,
    calls: Calls = None,
    name: Annotated[str, typer.Option("--name", help="Model name (file stem)")] = "therapy_ranker",
    folds: Annotated[int, typer.Option("--folds", help="Grouped cross-validation folds")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (folds and model)")] = 0,
) -> None:
    """Train the therapy re-ranker on your own outcomes, with grouped cross-validation and a model card."""
    from pgx.ml.ranker import dump_metrics, train

    if folds < 2:
        raise UsageError("--folds must be at least 2")
    data = _dataset(outcomes, vcf, calls)
    card = train(
        data,
        output,
        name=name,
        seed=seed,
        folds=folds,
        trained_on_outcomes=True,
        data_description=f"{outcomes.name}: {len(data.y)} outcome rows, {len(set(data.groups.tolist()))} patients",
    )
    cv = card.metrics["cross_validation"]
    atomic_write_text(output / f"{name}.metrics.json", dump_metrics(cv))
    out.print(f"cross-validation ({folds} folds grouped by patient): {_summary(cv)}", markup=False)
    out.print(f"wrote {output / (name + '.skops')} with its model card and reliability diagram", markup=False)


@ml_app.command("evaluate")
def evaluate_cmd(
    model: Annotated[Path, typer.Argument(help="A .skops re-ranker (with its .card.yaml)")],
    outcomes: Annotated[Path, typer.Argument(help="Held-out outcomes CSV")],
    vcf: Vcf = None,
    calls: Calls = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the metrics as JSON here")] = None,
    reliability: Annotated[Path | None, typer.Option("--reliability", help="Write a reliability diagram (PNG)")] = None,
) -> None:
    """Score a re-ranker on held-out outcomes: ROC AUC, Brier score against the base rate, calibration."""
    from pgx.ml.ranker import dump_metrics, evaluate, load_ranker, reliability_png

    loaded = load_ranker(str(model))
    data = _dataset(outcomes, vcf, calls)
    m = evaluate(loaded, data)
    if reliability is not None:
        reliability_png(m, reliability, f"{loaded.card.name} on {outcomes.name}")
    if output is not None:
        emit(dump_metrics(m), output)
    out.print(f"{loaded.card.name} {loaded.card.version} on {outcomes.name}: {_summary(m)}", markup=False)


@ml_app.command("simulate-outcomes")
def simulate_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Outcomes CSV to write")],
    patients: Annotated[int, typer.Option("--patients", "-n", help="Simulated patients")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 1,
) -> None:
    """Write a simulated outcomes table from the documented generative model (for trying pgx ml train)."""
    from pgx.ml.cohort import outcomes_csv, simulate_outcomes
    from pgx.rules.loader import load_rules

    if patients < 1:
        raise UsageError("--patients must be at least 1")
    rows = simulate_outcomes(load_knowledge(), load_rules(), patients, seed)
    atomic_write_text(output, outcomes_csv(rows))
    out.print(f"wrote {len(rows)} simulated outcome rows to {output}", markup=False)


@ml_app.command("build-prior")
def build_prior_cmd(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder (default: the package's)")] = None,
) -> None:
    """Rebuild the shipped re-ranker prior from the simulated cohort (deterministic)."""
    from pgx.ml.prior import build_prior
    from pgx.rules.loader import load_rules

    card = build_prior(load_knowledge(), load_rules(), output)
    held = card.metrics["holdout"]
    out.print(f"{card.name} {card.version}: simulated hold-out {_summary(held)}", markup=False)


@ml_app.command("card")
def card_cmd(
    model: Annotated[
        str, typer.Argument(help="A .skops file, or a bundled model: therapy_ranker, warfarin_dose")
    ] = "therapy_ranker",
) -> None:
    """Show a model's card: data, date, metrics, intended use and known limits."""
    from pgx.ml.artifact import bundled_model, read_card, render_card

    path = Path(model) if model.endswith(".skops") else bundled_model(model)
    typer.echo(render_card(read_card(path)), nl=False)
