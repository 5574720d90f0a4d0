"""Model-agnostic explanations: how much each feature group moves this patient's prediction.

For every group (all columns that encode one fact, e.g. the three race indicators), the
group is reset to a stated reference value (a normal metabolizer, the cohort's median
weight) and the model is asked again; the difference is the group's contribution. This
works the same for a linear model and a tree ensemble, costs one batched prediction per
patient, and reads as a sentence: "VKORC1 -1639 AA: 14 mg/week lower than for GG".
Contributions need not add up to the prediction (features interact); the report says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np


def perturbation_effects(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    reference: np.ndarray,
    groups: Mapping[str, Sequence[int]],
) -> dict[str, float]:
    """Prediction for ``x`` minus the prediction with each group's columns set to ``reference``.

    Groups whose columns already equal the reference contribute exactly 0 (not asked).
    """
    x = np.asarray(x, dtype=float)
    reference = np.asarray(reference, dtype=float)
    names, rows = [], []
    for name, idx in groups.items():
        cols = list(idx)
        same = np.array_equal(x[cols], reference[cols], equal_nan=True)
        if same:
            continue
        row = x.copy()
        row[cols] = reference[cols]
        names.append(name)
        rows.append(row)
    effects = dict.fromkeys(groups, 0.0)
    if rows:
        preds = np.asarray(predict(np.vstack([x[None, :], np.array(rows)])), dtype=float)
        for name, p in zip(names, preds[1:], strict=True):
            effects[name] = float(preds[0] - p)
    return effects


def top_effects(effects: Mapping[str, float], n: int = 5, min_abs: float = 0.0) -> list[tuple[str, float]]:
    """The ``n`` largest effects by size, ties broken by name so the order is stable."""
    ranked = sorted(((k, v) for k, v in effects.items() if abs(v) > min_abs), key=lambda kv: (-abs(kv[1]), kv[0]))
    return ranked[:n]


def background_effects(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    background: np.ndarray,
    groups: Mapping[str, Sequence[int]],
) -> tuple[float, dict[str, float]]:
    """The prediction for ``x``, and per group that prediction minus its average with the group's
    columns taken from background rows (one batched call for both).

    The background is a sample of the training cohort, so an effect reads "compared with the
    patients the model learned from"; a patient who is typical in a group gets an effect near 0.
    """
    x = np.asarray(x, dtype=float)
    background = np.asarray(background, dtype=float)
    blocks = [x[None, :]]
    for idx in groups.values():
        block = np.repeat(x[None, :], len(background), axis=0)
        cols = list(idx)
        block[:, cols] = background[:, cols]
        blocks.append(block)
    preds = np.asarray(predict(np.vstack(blocks)), dtype=float)
    base, n = preds[0], len(background)
    return float(base), {name: float(base - preds[1 + i * n : 1 + (i + 1) * n].mean()) for i, name in enumerate(groups)}
