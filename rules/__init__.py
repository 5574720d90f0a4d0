"""Recommendation rules (YAML). Installed as ``pgx.rules_base`` so importlib.resources finds them."""
