"""The clinical decision for each drug: one flag per drug for a patient, used by every consumer.

The report, the re-ranker and its training cohort, ``pgx graph path``, batch and the service
all take a drug's flag from :func:`pgx.flags.decide.patient_flags`, so no two of them can
answer the same question differently.
"""
