"""Shared check for bad input: every public entry of ddlib refuses it before any work starts.

Each test module lists the bad inputs of the public functions of its module in a module-level
``BAD_INPUTS``: a list of ``case(fn, *args, param="name", **kwargs)``. Its test

    test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)

checks that the call raises ``ValueError`` or ``TypeError`` (or a subclass such as
``MemoryError``-like ``ddlib`` errors derived from ``ValueError``), that the message names the
parameter as a whole word (``param="N"`` is not found in "Nonlinear"), and that it is refused
before the work: while the call runs, the entries where the solvers' work starts
(:data:`WORK_ENTRIES`) raise ``AssertionError("work started")``. ``tests/test_bad_input.py``
collects every module's ``BAD_INPUTS`` and checks that every public callable of ddlib is covered.
"""

from __future__ import annotations

import importlib
import re
from contextlib import ExitStack
from typing import Any, NamedTuple
from unittest import mock

import pytest

#: Where the solvers' work starts (``module:attribute``): building the exact Liouvillian and
#: its sparse solve, the MPO Trotter stepper and its time loop, the ODE integrations of mean
#: field and MFQF, the MFQF steady-state search. A bad input is refused before any of them.
WORK_ENTRIES = (
    "ddlib.exact:_orbit_system",
    "ddlib.exact:_permutation_system",
    "ddlib.exact:_solve_hermitian",
    "ddlib.mpo:_Stepper",
    "ddlib.mpo:_run",
    "ddlib.meanfield:solve_ivp",
    "scipy.integrate:solve_ivp",          # ddlib.mfqf.equations.evolve calls it by this path
    "ddlib.mfqf.steady:_steady_state",
    "ddlib.mfqf.steady:_follow",
)


class Case(NamedTuple):
    fn: Any
    args: tuple
    kwargs: dict
    param: str
    exc: tuple


def case(fn, *args, param: str, exc=(ValueError, TypeError), **kwargs) -> Case:
    """One bad call of ``fn``: it must raise ``exc`` with ``param`` in its message."""
    return Case(fn, args, kwargs, param, exc if isinstance(exc, tuple) else (exc,))


class Fresh(NamedTuple):
    """An argument of a case built only when the case runs (see :func:`fresh`)."""

    context: Any


def fresh(context) -> Fresh:
    """An argument made when the case runs, not when the test module is imported:
    ``context()`` is a context manager whose value is the argument and whose exit cleans it
    up (a figure's axes that must be closed; ``contextlib.nullcontext(value)`` for a value
    whose computation should not run at import)."""
    return Fresh(context)


def case_id(c: Case) -> str:
    name = getattr(c.fn, "__qualname__", repr(c.fn))
    return f"{getattr(c.fn, '__module__', '')}.{name}:{c.param}"


def names(param: str, message: str) -> bool:
    """Whether ``message`` names ``param`` as a whole word (not as a piece of another word)."""
    return re.search(rf"(?<!\w){re.escape(param)}(?!\w)", message) is not None


def _work_started(*args, **kwargs):
    raise AssertionError("work started")


def no_work() -> ExitStack:
    """A context in which every entry of :data:`WORK_ENTRIES` raises ``AssertionError``."""
    stack = ExitStack()
    for entry in WORK_ENTRIES:
        module, attr = entry.split(":")
        stack.enter_context(mock.patch.object(importlib.import_module(module), attr,
                                              _work_started))
    return stack


def check_rejects(c: Case) -> None:
    """Call the bad case: it must be refused before any work, with the parameter named."""
    with ExitStack() as made:
        def arg(a):
            return made.enter_context(a.context()) if isinstance(a, Fresh) else a

        args = [arg(a) for a in c.args]
        kwargs = {k: arg(v) for k, v in c.kwargs.items()}
        with no_work(), pytest.raises(c.exc) as info:
            c.fn(*args, **kwargs)
    assert names(c.param, str(info.value)), (
        f"{case_id(c)}: message does not name {c.param!r}: {info.value}")


def bad_input_test(cases: list[Case]):
    """The test of a module's ``BAD_INPUTS``, one parametrised case each (:func:`check_rejects`);
    assign it to ``test_bad_input_names_the_parameter`` for pytest to collect it."""

    @pytest.mark.parametrize("bad", cases, ids=case_id)
    def test_bad_input_names_the_parameter(bad):
        check_rejects(bad)

    return test_bad_input_names_the_parameter
