"""Every example in ddlib's docstrings runs, as a doctest (issue 13, item 4).

One test per module of the package (found by walking it, so a new module is included without
being listed here). The examples are physics in miniature (the J = 0 single spin, a two-site
ring solved exactly, a mean-field fold) and must stay fast: each module's examples run in a
second or two. The modules listed in ``MUST_HAVE_EXAMPLES`` are the public entries a newcomer
starts from; each of them must show at least one example.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ddlib

MODULES = sorted(["ddlib"] + [m.name for m in pkgutil.walk_packages(ddlib.__path__, "ddlib.")])

MUST_HAVE_EXAMPLES = {
    "ddlib.exact", "ddlib.lattice", "ddlib.meanfield", "ddlib.mfqf", "ddlib.mfqf.branches",
    "ddlib.mfqf.equations", "ddlib.mfqf.steady", "ddlib.model", "ddlib.pauli",
    "ddlib.reference", "ddlib.resources", "ddlib.results",
}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{name}: no docstring example"


def test_the_walk_finds_every_module():
    """The list is the package's, not a hand-kept one: private modules and subpackages too."""
    assert {"ddlib.exact", "ddlib.mfqf.steady", "ddlib._numba"} <= set(MODULES)
    assert MUST_HAVE_EXAMPLES <= set(MODULES)
