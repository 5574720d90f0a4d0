"""Gene knowledge: schema, loader and the importer that writes ``knowledge/`` from source tables."""
