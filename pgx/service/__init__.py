"""pgx as a service: lab pipelines submit VCFs over HTTP, pharmacists review flags, curators publish rules.

The service is a thin shell over the same library calls as the CLI (``report_from_calls``); what it adds is
state that must outlive a process — jobs, results, review decisions and their audit trail — kept in a SQL
database (SQLite by default, PostgreSQL by URL) and changed only through Alembic migrations.
"""
