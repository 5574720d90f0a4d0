"""The ML layer: predictions that sit *under* the rules, never over them.

Two models: a warfarin maintenance-dose regressor trained on the IWPC cohort
(:mod:`pgx.ml.warfarin`), and a therapy re-ranker that orders the drugs the rules still
permit for an indication by predicted probability of response (:mod:`pgx.ml.ranker`).
Artifacts are saved with skops and checked on load (:mod:`pgx.ml.artifact`); every
prediction carries its top feature contributions in words (:mod:`pgx.ml.explain`).
"""
