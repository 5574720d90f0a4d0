"""Model artifacts that are safe to load and that provably still behave as trained.

An artifact is three files side by side: ``NAME.skops`` (the fitted estimator, saved with
skops, which rebuilds objects from an explicit type list instead of unpickling arbitrary
code), ``NAME.card.yaml`` (the model card: data, date, metrics, intended use, known limits,
feature names, the estimator's SHA-256, library versions, and a *check set*) and
``NAME.card.md`` (the same card for people).

Loading refuses, with a one-line ModelError:
- a file whose hash differs from its card (corrupted, replaced, or edited by hand);
- any type outside :data:`TRUSTED_TYPES` (skops would otherwise need to be told to trust it);
- a model whose predictions on the check set differ from those recorded at training time.
  This is the scikit-learn version check that matters: a different version that computes
  the same numbers is fine, one that does not is refused, naming both versions.
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import yaml
from pydantic import BaseModel, ConfigDict, Field

from pgx import __version__
from pgx.errors import ModelError
from pgx.fileio import sha256_file
from pgx.ml.results import ModelRef
from pgx.yamlio import dump_yaml

CARD_SCHEMA_VERSION = 1

# Non-estimator types our models contain; skops trusts plain scikit-learn estimators already.
TRUSTED_TYPES = frozenset(
    {
        "numpy.dtype",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.isotonic.IsotonicRegression",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.AbsoluteError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.LogitLink",
        "builtins.slice",
        "sklearn.utils._bunch.Bunch",  # a dict subclass: VotingRegressor.named_estimators_ (warfarin model)
        "sklearn.impute._iterative.IterativeImputer",  # experimental in scikit-learn, so skops does not trust it itself
        "sklearn.impute._iterative._ImputerTriplet",  # a namedtuple of IterativeImputer's fitted steps (warfarin)
    }
)

CHECK_TOLERANCE = 1e-6


class ModelCard(BaseModel):
    """What a model is, what it was trained on, how good it is and what it is not for."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = CARD_SCHEMA_VERSION
    name: str
    kind: str = Field(description="warfarin_dose or therapy_ranker")
    version: str = Field(description="Model version: bumped whenever the model is retrained")
    created: str = Field(description="ISO date of training")
    estimator: str = Field(description="The fitted estimator, in scikit-learn's own words")
    trained_on_outcomes: bool = Field(description="False for a prior built from a simulated cohort")
    label: str = Field(description="How reports must label this model's output")
    data: str
    intended_use: str
    known_limits: list[str]
    metrics: dict[str, Any] = Field(default_factory=dict)
    features: list[str]
    extra: dict[str, Any] = Field(default_factory=dict, description="Model-specific settings (intervals, groups)")
    sha256: str
    pgx_version: str
    sklearn_version: str
    numpy_version: str
    python_version: str
    check_inputs: list[list[float | None]] = Field(description="Rows whose predictions are re-checked on load")
    check_outputs: list[float]

    def check_inputs_matrix(self) -> np.ndarray:
        return from_rows(self.check_inputs)

    def ref(self) -> ModelRef:
        """What a report records about the model behind a prediction."""
        return ModelRef(
            name=self.name,
            version=self.version,
            kind=self.kind,
            trained_on_outcomes=self.trained_on_outcomes,
            label=self.label,
            sha256=self.sha256,
        )


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    card: ModelCard
    path: Path


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared model from its other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_rows(x: np.ndarray) -> list[list[float | None]]:
    """A feature matrix as YAML-safe rows (NaN, which YAML cannot hold portably, as None)."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in np.asarray(x, dtype=float)]


def from_rows(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def save_model(
    fitted: Any,
    path: str | Path,
    *,
    predict: Callable[[Any, np.ndarray], np.ndarray],
    check_inputs: np.ndarray,
    **card: Any,
) -> ModelCard:
    """Write ``path`` (.skops) with its card; ``predict(estimator, X)`` is what load re-checks."""
    import skops.io as sio  # lazy: skops is slow to import and only needed to save or load

    path = Path(path)
    if path.suffix != ".skops":
        raise ModelError(f"{path}: a model artifact is saved as NAME.skops")
    _atomic_write(path, sio.dumps(fitted))
    outputs = np.asarray(predict(fitted, check_inputs), dtype=float)
    model_card = ModelCard(
        sha256=sha256_file(path),
        pgx_version=__version__,
        sklearn_version=sklearn.__version__,
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        check_inputs=to_rows(check_inputs),
        check_outputs=[float(v) for v in outputs],
        created=card.pop("created", date.today().isoformat()),
        **card,
    )
    _atomic_write(card_path(path), dump_yaml(model_card.model_dump(mode="json")).encode())
    _atomic_write(path.with_suffix(".card.md"), render_card(model_card).encode())
    return model_card


def card_path(path: Path) -> Path:
    return path.with_suffix(".card.yaml")


def read_card(path: str | Path) -> ModelCard:
    path = Path(path)
    cp = card_path(path)
    try:
        data = yaml.safe_load(cp.read_text(encoding="utf-8"))
        return ModelCard.model_validate(data)
    except OSError:
        raise ModelError(f"{cp}: model card missing", hint="a model is loaded only with its card") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ModelError(f"{cp}: not a valid model card ({str(exc).splitlines()[0]})") from None


def load_model(path: str | Path, *, kind: str, predict: Callable[[Any, np.ndarray], np.ndarray]) -> LoadedModel:
    import skops.io as sio  # lazy: skops is slow to import and only needed to save or load

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    card = read_card(path)
    if card.kind != kind:
        raise ModelError(f"{path}: a {card.kind} model, not a {kind} model")
    if sha256_file(path) != card.sha256:
        raise ModelError(
            f"{path}: SHA-256 differs from its model card: the file was changed after training",
            hint="retrain it, or restore the original file",
        )
    data = path.read_bytes()
    try:
        untrusted = set(sio.get_untrusted_types(data=data))
    except Exception as exc:  # noqa: BLE001 - skops raises many types on a malformed archive
        raise ModelError(f"{path}: not a readable skops archive ({type(exc).__name__})") from None
    refused = sorted(untrusted - TRUSTED_TYPES)
    if refused:
        raise ModelError(f"{path}: refusing to load types pgx does not trust: {', '.join(refused[:3])}")
    try:
        estimator = sio.loads(data, trusted=sorted(untrusted))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(
            f"{path}: cannot be loaded with scikit-learn {sklearn.__version__} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            hint=f"it was trained with scikit-learn {card.sklearn_version}",
        ) from None
    got = np.asarray(predict(estimator, card.check_inputs_matrix()), dtype=float)
    want = np.asarray(card.check_outputs, dtype=float)
    if got.shape != want.shape or not np.allclose(got, want, rtol=CHECK_TOLERANCE, atol=CHECK_TOLERANCE):
        worst = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("nan")
        raise ModelError(
            f"{path}: predicts differently from when it was trained (largest difference {worst:.3g}) "
            f"under scikit-learn {sklearn.__version__}; trained with {card.sklearn_version}",
            hint=f"install scikit-learn=={card.sklearn_version} or retrain the model",
        )
    return LoadedModel(estimator=estimator, card=card, path=path)


def bundled_model(name: str) -> Path:
    """Path of a model shipped inside the package (pgx/ml/artifacts/NAME.skops)."""
    return Path(str(resources.files("pgx.ml").joinpath("artifacts").joinpath(f"{name}.skops")))


def render_card(card: ModelCard) -> str:
    lines = [
        f"# Model card: {card.name} {card.version}",
        "",
        f"- Kind: {card.kind}",
        f"- Trained: {card.created}",
        f"- Estimator: `{card.estimator}`",
        f"- Trained on outcomes: {'yes' if card.trained_on_outcomes else 'no'}",
        f'- Reports label its output: "{card.label}"',
        f"- Software: pgx {card.pgx_version}, scikit-learn {card.sklearn_version}, numpy {card.numpy_version}, "
        f"Python {card.python_version}",
        f"- SHA-256 of the .skops file: `{card.sha256}`",
        "",
        "## Data",
        "",
        card.data,
        "",
        "## Intended use",
        "",
        card.intended_use,
        "",
        "## Known limits",
        "",
    ]
    lines += [f"- {limit}" for limit in card.known_limits]
    lines += ["", "## Metrics", ""]
    lines += _metric_lines(card.metrics)
    lines += ["", "## Features", "", ", ".join(f"`{f}`" for f in card.features), ""]
    return "\n".join(lines)


def _metric_lines(metrics: dict[str, Any], indent: str = "") -> list[str]:
    out = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.append(f"{indent}- {key}:")
            out += _metric_lines(value, indent + "  ")
        else:
            out.append(f"{indent}- {key}: {value:.4g}" if isinstance(value, float) else f"{indent}- {key}: {value}")
    return out
