"""The layered-query FDW: a table of an object-store image, queried in place (no
checkout). See README.md."""
from sgfdw.layered.fdw import LayeredFdw

__all__ = ["LayeredFdw"]
