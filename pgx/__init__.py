"""pgx: pharmacogenomics engine.

Stages, one subpackage each: ``vcf`` (reading) -> ``matching`` (named alleles) ->
``phenotype`` -> ``report``. ``calling`` wires them together; ``cli`` is a thin shell.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pgx-engine")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
