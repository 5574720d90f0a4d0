"""The patient the rules see: gene calls and medications in, one result per gene out.

Stage ``patient`` sits between calling and the rules: :mod:`pgx.patient.state` turns call
results into a :class:`~pgx.patient.state.PatientState` (one option per tied diplotype),
:mod:`pgx.patient.conversion` applies co-medications (phenoconversion), and
:mod:`pgx.patient.covariates` reads what a VCF cannot hold (age, weight, ...).
"""
