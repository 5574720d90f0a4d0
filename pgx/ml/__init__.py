"""The ML layer: predictions that sit *under* the rules, never over them.

Two models: a warfarin maintenance-dose regressor trained on the IWPC cohort (prediction in
:mod:`pgx.ml.warfarin`; its features in :mod:`pgx.ml.warfarin_features`, the cohort in
:mod:`pgx.ml.iwpc`, the published IWPC formulas in :mod:`pgx.ml.iwpc_formula`, the evaluation
protocol in :mod:`pgx.ml.warfarin_eval`, training in :mod:`pgx.ml.warfarin_train`), and a therapy
re-ranker that orders the drugs the rules still permit for an indication by predicted
probability of response (:mod:`pgx.ml.ranker`).
Artifacts are saved with skops and checked on load (:mod:`pgx.ml.artifact`); every
prediction carries its top feature contributions in words (:mod:`pgx.ml.explain`).
"""
