"""Shared check for bad input: every public entry of ddlib refuses it before any work starts.

Each test module lists the bad inputs of the public functions of its module in a module-level
``BAD_INPUTS``: a list of ``case(fn, *args, param="name", **kwargs)``. Its test

    test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)

checks that the call raises ``ValueError`` or ``TypeError`` (or a subclass such as
``MemoryError``-like ``ddlib`` errors derived from ``ValueError``), that the message names the
parameter, and that it does so quickly (the check runs before the work). ``tests/test_bad_input.py``
collects every module's ``BAD_INPUTS`` and checks that every public callable of ddlib is covered.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import pytest


class Case(NamedTuple):
    fn: Any
    args: tuple
    kwargs: dict
    param: str
    exc: tuple


def case(fn, *args, param: str, exc=(ValueError, TypeError), **kwargs) -> Case:
    """One bad call of ``fn``: it must raise ``exc`` with ``param`` in its message."""
    return Case(fn, args, kwargs, param, exc if isinstance(exc, tuple) else (exc,))


def case_id(c: Case) -> str:
    name = getattr(c.fn, "__qualname__", repr(c.fn))
    return f"{getattr(c.fn, '__module__', '')}.{name}:{c.param}"


def check_rejects(c: Case, max_seconds: float = 1.0) -> None:
    """Call the bad case; it must fail fast with the named parameter in the message."""
    t0 = time.perf_counter()
    with pytest.raises(c.exc) as info:
        c.fn(*c.args, **c.kwargs)
    elapsed = time.perf_counter() - t0
    assert c.param in str(info.value), (
        f"{case_id(c)}: message does not name {c.param!r}: {info.value}")
    # refused before the work, not after it (generous: a cold import or numba load may count)
    assert elapsed < max_seconds, f"{case_id(c)}: refused only after {elapsed:.1f} s"


def bad_input_test(cases: list[Case]):
    """The test of a module's ``BAD_INPUTS``, one parametrised case each (:func:`check_rejects`);
    assign it to ``test_bad_input_names_the_parameter`` for pytest to collect it."""

    @pytest.mark.parametrize("bad", cases, ids=case_id)
    def test_bad_input_names_the_parameter(bad):
        check_rejects(bad)

    return test_bad_input_names_the_parameter
