"""Gene knowledge base (YAML). Installed as ``pgx.knowledge_base`` so importlib.resources finds it."""
