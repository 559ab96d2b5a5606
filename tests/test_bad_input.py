"""Every public entry of ddlib is fed at least one bad input (issue 13, item 5).

Each test module ``tests/test_<module>.py`` lists the bad calls of its module's public
functions in ``BAD_INPUTS`` (``tests/badinput.py``) and checks them itself. This test checks
coverage: every public callable of a ddlib module — the names in its ``__all__`` and the
public functions and classes defined there (listed in ``__all__`` or not), keeping
functions and classes that validate their arguments (a ``__post_init__`` or an ``__init__``
of their own; plain result records and exceptions have nothing to validate) — appears as the
``fn`` of some case. Cases count wherever they are listed (``tests/test_systems.py`` may
cover a solver too), and a name re-exported by another module (``ddlib.cumulants``,
``ddlib.plots``, ...) is covered by a case of the object's home module. Callables that take
no arguments are exempt (nothing can be bad).

No module is skipped: each one's test file is ``tests/test_<module>.py``, or its package's
(``ddlib.mfqf.steady`` → ``tests/test_mfqf.py``, ``ddlib.paper.rerun`` →
``tests/test_paper.py``).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import ddlib

TESTS = Path(__file__).parent

def _public_modules() -> list[str]:
    """ddlib's modules and subpackages whose names (and whose parents') are public."""
    names = []
    for info in pkgutil.walk_packages(ddlib.__path__, prefix="ddlib."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        names.append(info.name)
    return sorted(names)


def _test_file(module: str) -> Path | None:
    """tests/test_<last part>.py, tests/test_<parts joined by _>.py, else the package's file
    (tests/test_<first part>.py for a module inside a package)."""
    parts = module.split(".")[1:]
    for stem in (parts[-1], "_".join(parts), parts[0]):
        path = TESTS / f"test_{stem}.py"
        if path.exists():
            return path
    return None


def _defines_bad_inputs(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "BAD_INPUTS" for t in targets):
            return True
    return False


def _validates(obj) -> bool:
    """A function, or a class with validation of its own (not a record, not an exception)."""
    if inspect.isfunction(obj):
        return True
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return False
        own = vars(obj)
        if dataclasses.is_dataclass(obj):                 # its __init__ is generated
            return "__post_init__" in own
        return "__init__" in own
    return False


def _takes_arguments(obj) -> bool:
    """False for a callable with no parameters at all (a class: its constructor's)."""
    try:
        return bool(inspect.signature(obj).parameters)
    except (TypeError, ValueError):                       # no signature: assume it takes some
        return True


def _required(module: str) -> dict[str, object]:
    mod = importlib.import_module(module)
    # __all__ (re-exports included) and every public callable defined here, listed or not
    names = list(getattr(mod, "__all__", ()))
    names += [n for n, v in vars(mod).items() if not n.startswith("_") and n not in names
              and getattr(v, "__module__", None) == module]
    return {n: getattr(mod, n) for n in names
            if _validates(getattr(mod, n, None)) and _takes_arguments(getattr(mod, n))}


def _key(fn) -> tuple[str, str]:
    while isinstance(fn, functools.partial):              # a case may bind arguments first
        fn = fn.func
    fn = getattr(fn, "__func__", fn)                      # bound (class)methods
    return getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn))


def _all_cases() -> list:
    cases = []
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name != Path(__file__).name and _defines_bad_inputs(path):
            mod = importlib.import_module(f"tests.{path.stem}" if (TESTS / "__init__.py").exists()
                                          else path.stem)
            cases.extend(mod.BAD_INPUTS)
    return cases


@pytest.fixture(scope="module")
def covered() -> set:
    return {_key(c.fn) for c in _all_cases()}


@pytest.mark.parametrize("module", _public_modules())
def test_every_public_callable_has_a_bad_input_case(module, covered):
    required = _required(module)
    # a name re-exported from another module counts where it is defined, too
    uncovered = sorted(n for n, obj in required.items() if _key(obj) not in covered)
    path = _test_file(module)
    where = path.name if path else f"tests/test_{module.split('.')[-1]}.py (missing)"
    assert not uncovered, (f"{module}: no BAD_INPUTS case calls {uncovered} "
                           f"(add case(fn, ..., param=...) to {where})")


def test_every_module_with_public_callables_has_its_test_file():
    for module in _public_modules():
        if any(o.__module__ == module for o in _required(module).values()):
            assert _test_file(module) is not None, f"{module}: no tests/test_*.py of its own"


def test_the_coverage_rule_sees_the_classes_it_must():
    """The filter keeps validating classes and functions and drops records and exceptions."""
    from ddlib import exact

    required = _required("ddlib.exact")
    assert {"steady_state", "SteadyStateOptions", "scan"} <= set(required)
    assert "SteadyState" not in required and "ResourceError" not in required
    assert "ddlib.exact" in _public_modules() and "ddlib._numba" not in _public_modules()
    assert _key(exact.steady_state) == ("ddlib.exact", "steady_state")
    assert _test_file("ddlib.mfqf.steady").name == "test_mfqf.py"
    assert _test_file("ddlib.paper.appendix_d").name == "test_appendix_d.py"
    assert _test_file("ddlib.paper.rerun").name == "test_paper.py"
    assert "archive_dir" not in _required("ddlib.archive")       # takes no arguments
    # a public function left out of its module's __all__ is still required
    from ddlib import archive
    assert "compute_time" not in archive.__all__
    assert "compute_time" in _required("ddlib.archive")


# ------------------------------------------------------------------ the check of each case

def _good_calls():
    """One good call per solver whose work starts at an entry of ``badinput.WORK_ENTRIES``."""
    from ddlib import Model, exact, lattice, meanfield, mfqf, mpo

    model, chain = Model(Delta=1.0, Omega=0.5, J=0.5), lattice.chain(4)
    return {
        "exact.steady_state": lambda: exact.steady_state(model, chain),
        "exact.steady_state (FC)": lambda: exact.steady_state(model,
                                                              lattice.fully_connected(3)),
        "mpo.evolve": lambda: mpo.evolve(model, chain, 4, 0.1, 0.2),
        "meanfield.evolve": lambda: meanfield.evolve(model, 2, 1.0),
        "mfqf.evolve": lambda: mfqf.evolve(model, lattice.chain(8), 1.0),
        "mfqf.steady_state": lambda: mfqf.steady_state(model, lattice.chain(8)),
    }


@pytest.mark.parametrize("solver", list(_good_calls()))
def test_the_work_entries_are_where_the_solvers_start_their_work(solver):
    """A good call reaches an entry of WORK_ENTRIES: the check that a bad one is refused before
    them sees the work it is meant to (an entry renamed in ddlib fails here, not silently)."""
    from badinput import no_work

    with no_work(), pytest.raises(AssertionError, match="work started"):
        _good_calls()[solver]()


def test_a_bad_input_refused_after_the_work_fails_the_check():
    """check_rejects: refused late, or naming the parameter only inside another word, fails."""
    from badinput import case, check_rejects, names

    from ddlib import Model, exact, lattice

    def late(model):
        exact.steady_state(model, lattice.chain(3))
        raise ValueError(f"model is bad: {model!r}")

    def vague(N):
        raise ValueError("Nonlinear trouble")

    with pytest.raises(AssertionError, match="work started"):
        check_rejects(case(late, Model(Delta=1.0, Omega=0.5, J=0.5), param="model"))
    with pytest.raises(AssertionError, match="does not name 'N'"):
        check_rejects(case(vague, 3, param="N"))
    assert names("N", "N must be positive") and names("ds", "ds's wall times")
    assert not names("N", "Nonlinear") and not names("x", "max_iter")
