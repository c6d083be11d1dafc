"""Datasets: registry, resolution (mirror, then cache, then upstream), loaders, canonical form,
splits and the validation gate. Great Expectations is used in this package only."""

from tokfrag.data.canonical import read_canonical, write_canonical
from tokfrag.data.registry import DATASETS, DataError, DatasetSpec, get_spec, resolve_file
from tokfrag.data.series import SeriesData

__all__ = [
    "DATASETS",
    "DataError",
    "DatasetSpec",
    "SeriesData",
    "get_spec",
    "read_canonical",
    "resolve_file",
    "write_canonical",
]
