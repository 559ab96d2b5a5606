r"""What solvers hand to one another: the shape of their results and the portable summary of
one steady state.

The result shape
----------------
Every solver's result is a frozen, keyword-only dataclass derived from :class:`SolverResult`,
which carries what all of them share: a ``message`` (what happened, why it did not converge),
the ``model`` it was solved at and its ``lattice`` (None where a mean-field function was given
only a coordination number). A steady state derives from :class:`SteadyResult` and adds
``converged``; a trajectory derives from :class:`TrajectoryResult` and adds ``success`` (it
reached its end time), with ``converged`` kept as a read-only alias for earlier code. Each
solver's own fields (``mu``, ``eta``, ``times``, ...) are declared by its result class.

>>> from ddlib import Model, meanfield
>>> from ddlib.results import SolverResult, SteadyResult, TrajectoryResult
>>> fold = meanfield.steady_states(Model(Delta=1.6, Omega=0.5, J=1.0), 4)
>>> isinstance(fold, SteadyResult), fold.converged, fold.model.Delta, fold.lattice is None
(True, True, 1.6, True)
>>> run = meanfield.evolve(Model(Delta=1.6, Omega=0.5, J=1.0), 4, 5.0)
>>> isinstance(run, TrajectoryResult), run.success, run.converged, run.message
(True, True, True, 'integrated to t_final')
>>> SolverResult(message=None)
Traceback (most recent call last):
    ...
TypeError: message must be a str, got None

The warm-start contract
-----------------------
A sweep keeps, for each point, a :class:`SteadySummary` (every steady-state result has
``.summary()``); a solver's ``initial=`` accepts either a result of that same solver or a
:class:`SteadySummary` (of any solver), and refuses anything else with a ``TypeError`` that names
``initial``. A summary carries the model it was solved at, so that a solver can follow the
branch from that model to the one asked for; it is frozen, and :meth:`SteadySummary.to_dict` /
:meth:`SteadySummary.from_dict` turn it into plain JSON types and back (no pickle), so a
sweep's record can be stored, shipped and read back as a warm start.

>>> from ddlib import Model
>>> from ddlib.results import SteadySummary
>>> s = SteadySummary(model=Model(Delta=1.5, Omega=0.5, J=1.0), mu=(0.1, 0.2, -0.9),
...                   converged=True, message="converged", stable=True, kappa=0.17,
...                   solver="mfqf")
>>> SteadySummary.from_dict(s.to_dict()) == s
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from numbers import Real

import numpy as np

from .lattice import Lattice
from .model import Model

__all__ = ["SolverResult", "SteadyResult", "TrajectoryResult", "SteadySummary", "as_initial",
           "check_options"]


def _flag(obj, name: str) -> None:
    """A bool field: numpy's bool is turned into Python's, anything else refused."""
    v = getattr(obj, name)
    if isinstance(v, np.bool_):
        object.__setattr__(obj, name, bool(v))
    elif not isinstance(v, bool):
        raise TypeError(f"{name} must be a bool, got {v!r}")


@dataclass(frozen=True, kw_only=True)
class SolverResult:
    r"""What every solver's result carries (the base record; its fields are keyword-only).

    Parameters
    ----------
    message : str
        The solver's account of the run: how it ended, and why when it did not converge.
    model : Model, optional
        The parameters it was solved at.
    lattice : Lattice, optional
        The lattice it was solved on (None where a mean-field function was given only
        :math:`\mathcal Z`).

    Raises
    ------
    TypeError
        On a field of the wrong type; the message names it.
    """

    message: str
    model: Model | None = None
    lattice: Lattice | None = None

    def __post_init__(self):
        if not isinstance(self.message, str):
            raise TypeError(f"message must be a str, got {self.message!r}")
        if self.model is not None and not isinstance(self.model, Model):
            raise TypeError(f"model must be a ddlib.Model or None, "
                            f"got {type(self.model).__name__}")
        if self.lattice is not None and not isinstance(self.lattice, Lattice):
            raise TypeError(f"lattice must be a ddlib.lattice.Lattice or None, "
                            f"got {type(self.lattice).__name__}")
        for name in ("converged", "success"):
            if name in self.__dataclass_fields__:
                _flag(self, name)


@dataclass(frozen=True, kw_only=True)
class SteadyResult(SolverResult):
    """A steady state (or a set of them): :class:`SolverResult` plus ``converged``.

    Parameters
    ----------
    converged : bool
        The solver's verdict; when False, ``message`` says why.
    """

    converged: bool


@dataclass(frozen=True, kw_only=True)
class TrajectoryResult(SolverResult):
    """A time evolution: :class:`SolverResult` plus ``success``.

    Parameters
    ----------
    success : bool
        The evolution reached its end time with finite, physical values (a trajectory does not
        converge; ``converged`` is a read-only alias kept for earlier code).
    """

    success: bool

    @property
    def converged(self) -> bool:
        """Alias of ``success`` (earlier name)."""
        return self.success


def _matrix(name: str, value) -> tuple | None:
    """A 3×3 nested tuple of floats (NaN allowed: a correlation length may be undefined)."""
    if value is None:
        return None
    try:
        rows = tuple(tuple(float(v) for v in row) for row in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 3x3 array of numbers or None, got {value!r}") \
            from None
    if len(rows) != 3 or any(len(r) != 3 for r in rows):
        raise ValueError(f"{name} must be a 3x3 array of numbers or None, got {value!r}")
    return rows


def _nan_to_none(x):
    """JSON has no NaN: unknown numbers travel as None."""
    if isinstance(x, tuple):
        return [_nan_to_none(v) for v in x]
    return None if isinstance(x, float) and math.isnan(x) else x


def _none_to_nan(x):
    if isinstance(x, list | tuple):
        return tuple(_none_to_nan(v) for v in x)
    return math.nan if x is None else x


@dataclass(frozen=True, kw_only=True)
class SteadySummary:
    r"""A frozen, JSON-portable summary of one steady state, accepted as a warm start.

    Parameters
    ----------
    model : Model
        The parameters the state was solved at (a solver follows the branch from here).
    mu : tuple of 3 floats
        Site magnetisation :math:`\vec\mu = (\langle\sigma^x\rangle, \langle\sigma^y\rangle,
        \langle\sigma^z\rangle)` (site average for solvers that resolve sites).
    converged : bool
        The solver's verdict on this state.
    message : str
        The solver's reason (why it did not converge, notes).
    stable : bool or None
        Linear stability of the fixed point (None: not known / not applicable).
    kappa : float
        Asymptotic relaxation rate κ in units of Γ (NaN when unknown).
    solver : str
        Which solver produced it (``"mfqf"``, ``"meanfield"``, ``"exact"``, ``"mpo"``, ...).
    sigma : 3×3 nested tuple of floats, optional
        Total connected correlation :math:`\Sigma_{ab} = \sum_{R\neq0}\eta_{ab}(R)`.
    lam : 3×3 nested tuple of floats, optional
        Inverse correlation lengths :math:`\lambda_{ab}` (Fig. 2b; NaN where undefined).
    lattice : dict, optional
        ``lattice.key()`` of the lattice it was solved on (for labels; not needed to warm-start).

    Raises
    ------
    ValueError, TypeError
        On a malformed field; the message names it.
    """

    model: Model
    mu: tuple
    converged: bool
    message: str = ""
    stable: bool | None = None
    kappa: float = math.nan
    solver: str = ""
    sigma: tuple | None = None
    lam: tuple | None = None
    lattice: dict | None = None

    def __post_init__(self):
        if not isinstance(self.model, Model):
            raise TypeError(f"model must be a ddlib.Model, got {type(self.model).__name__}")
        try:
            mu = tuple(float(v) for v in self.mu)
        except (TypeError, ValueError):
            raise ValueError(f"mu must be 3 finite numbers, got {self.mu!r}") from None
        if len(mu) != 3 or not all(math.isfinite(v) for v in mu):
            raise ValueError(f"mu must be 3 finite numbers, got {self.mu!r}")
        object.__setattr__(self, "mu", mu)
        _flag(self, "converged")
        if self.stable is not None:
            if type(self.stable).__name__ not in ("bool", "bool_"):
                raise TypeError(f"stable must be a bool or None, got {self.stable!r}")
            object.__setattr__(self, "stable", bool(self.stable))
        for name in ("message", "solver"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a str, got {getattr(self, name)!r}")
        if isinstance(self.kappa, bool) or not isinstance(self.kappa, Real):
            raise TypeError(f"kappa must be a float (NaN when unknown), got {self.kappa!r}")
        object.__setattr__(self, "kappa", float(self.kappa))
        for name in ("sigma", "lam"):
            object.__setattr__(self, name, _matrix(name, getattr(self, name)))
        if self.lattice is not None and not isinstance(self.lattice, dict):
            raise TypeError(f"lattice must be a dict (lattice.key()) or None, "
                            f"got {type(self.lattice).__name__}")

    def __eq__(self, other) -> bool:  # NaN-aware: a round trip compares equal
        if not isinstance(other, SteadySummary):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.model, self.mu, self.solver))

    def to_dict(self) -> dict:
        """Plain JSON types (dict, list, str, float, bool, None); NaN becomes None."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "model":
                v = v.key()
            elif f.name == "lattice":
                v = None if v is None else dict(v)
            else:
                v = _nan_to_none(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SteadySummary:
        """The summary of :meth:`to_dict` (e.g. after ``json.loads``)."""
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"data has unknown fields {sorted(unknown)}")
        if not isinstance(data.get("model"), dict):
            raise ValueError("data['model'] must be a dict of Model parameters")
        kw = dict(data)
        kw["model"] = Model(**data["model"])
        kw["mu"] = tuple(data["mu"]) if isinstance(data.get("mu"), list) else data.get("mu")
        for name in ("kappa", "sigma", "lam"):
            if name in kw:
                kw[name] = _none_to_nan(kw[name]) if kw[name] is not None or name == "kappa" \
                    else None
        return cls(**kw)


def as_initial(initial, solver: str = "this solver"):
    """The warm start a solver was given: None, or a :class:`SteadySummary`.

    Parameters
    ----------
    initial : None, SteadySummary, or a result with ``.summary()``
        A full result of a solver is turned into its summary; a solver that can use more of
        its own results (e.g. MFQF's correlators) checks for them *before* calling this.
    solver : str
        Named in the error message.

    Raises
    ------
    TypeError
        For anything else (a duck-typed record with ``.mu`` is refused: branch following
        needs the model it was solved at, which a :class:`SteadySummary` guarantees).
    """
    if initial is None or isinstance(initial, SteadySummary):
        return initial
    summary = getattr(type(initial), "summary", None)
    if callable(summary):
        out = initial.summary()
        if isinstance(out, SteadySummary):
            return out
    raise TypeError(f"initial must be None, a ddlib.results.SteadySummary or a {solver} "
                    f"result, got {type(initial).__name__}")


def check_options(options, cls):
    """``cls()`` (the defaults) for None, ``options`` itself if it is a ``cls``, else a
    TypeError naming ``options``: the one meaning of ``options=None`` in every solver."""
    if options is None:
        return cls()
    if not isinstance(options, cls):
        raise TypeError(f"options must be a {cls.__module__}.{cls.__qualname__} or None, "
                        f"got {type(options).__name__}")
    return options
