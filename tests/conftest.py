"""Shared test set-up: a private result cache, deterministic single-threaded numerics."""

import os

import pytest

# Two cores on CI: keep BLAS from oversubscribing when numba or sparse LU also run.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Point ddlib's disk cache at a fresh directory, so tests never reuse book results."""
    old = os.environ.get("DDLIB_CACHE")
    os.environ["DDLIB_CACHE"] = str(tmp_path_factory.mktemp("ddlib-cache"))
    yield
    if old is None:
        del os.environ["DDLIB_CACHE"]
    else:
        os.environ["DDLIB_CACHE"] = old
