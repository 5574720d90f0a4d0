"""The recommendation rule base: schema, loader, importer, evaluation and curator tools."""
