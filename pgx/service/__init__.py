"""pgx as a service: lab pipelines submit VCFs over HTTP, pharmacists review flags, curators publish rules.

The service is a thin shell over the same library calls as the CLI (:mod:`pgx.api`); what it adds is
state that must outlive a process — jobs, results, review decisions and their audit trail — kept in a SQL
database (SQLite by default, PostgreSQL by URL) and changed only through Alembic migrations.

``api.create_app`` builds the app from ``core`` (the shared state, errors, who is asking, the audit log) and one
router per area: ``jobs_api``, ``knowledge_api``, ``flags_api``, ``rulesets_api``, ``users_api`` and ``review``
(the HTML pages). The work behind them is in ``jobs`` (uploads, job workers), ``flags`` (the review queue and
decisions), ``rulesets``, ``auth`` and ``db``.
"""
