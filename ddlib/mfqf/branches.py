r"""Continuation of MFQF steady states in Δ, Ω or J: natural sweeps (hysteresis) and
pseudo-arclength through the folds (see :mod:`ddlib.mfqf`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.optimize
from tqdm import tqdm

from ..lattice import Lattice
from ..model import Model, check_model
from ..results import SteadyResult, check_options
from .equations import _FLOATS_PER_SITE, _check_fits, _check_initial, _check_lattice
from .steady import SteadyOptions, _checked, _Problem, _result, steady_state


@dataclass(frozen=True, kw_only=True)
class Continuation(SteadyResult):
    """Result of :func:`continuation`.

    Attributes
    ----------
    param : str
        ``"Delta"`` or ``"Omega"``.
    values : ndarray, shape (n,)
        Parameter values of the points, in the order they were reached.
    points : tuple of SteadyState
    mu : ndarray, shape (n, 3)
    stable : ndarray of object, shape (n,)
        True, False or None (κ not computed).
    converged : bool
        Every point converged.
    message : str
    model : Model
        The model given (its value of ``param`` is that of the first point).
    lattice : Lattice
    """

    param: str
    values: np.ndarray
    points: tuple
    mu: np.ndarray
    stable: np.ndarray


# --------------------------------------------------------------------------------- continuation

_PARAMS = ("Delta", "Omega", "J")


def continuation(model: Model, lattice: Lattice, param: str, values, initial=None, *,
                 method: str = "natural", max_points: int = 400, progress: bool = False,
                 options: SteadyOptions | None = None) -> Continuation:
    r"""Follow a branch of MFQF steady states as Δ, Ω or J varies.

    Parameters
    ----------
    model : Model
        The other parameters (its value of ``param`` is ignored).
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    param : {"Delta", "Omega", "J"}
    values : array_like, shape (n,)
        ``method="natural"``: the parameter values, in the order to visit them (increasing
        or decreasing: a sweep up and a sweep down show hysteresis). ``"arclength"``: the
        path starts at ``values[0]`` and is traced until the parameter leaves
        [min(values), max(values)]; the typical step is the mean spacing of ``values``.
    initial : None, (mu, eta), Evolution, SteadyState or SteadySummary
        Start of the first point, as in :func:`steady_state` (default: all spins down, which
        picks the dynamically reached branch); anything else is a TypeError naming
        ``initial``.
    method : {"natural", "arclength"}
        ``"natural"``: each point is warm-started from the previous one, with
        ``require_stable=True`` when ``options.kappa`` (an unstable root is rejected and the
        state relaxes in time from the previous one instead, as in a slow physical sweep);
        at a fold the branch ends and the next points land on the other branch (a jump,
        visible in the result). With ``kappa=False`` stability is not checked.
        ``"arclength"``: pseudo-arclength continuation of the reduced root problem
        :math:`\partial_t\vec\mu(\vec\mu, p) = 0` in (μ, p), which turns around folds and
        traces the unstable branch (its points have ``stable=False``).
    max_points : int
        Bound on the number of arclength steps.
    progress : bool
        Show a tqdm progress bar.
    options : SteadyOptions, optional
        None: the defaults.

    Returns
    -------
    Continuation

    Examples
    --------
    Without coupling every point of the branch is the single-spin closed form:

    >>> import numpy as np
    >>> from ddlib import Model, lattice
    >>> from ddlib.model import single_spin_steady_state
    >>> free = Model(Delta=0.0, Omega=0.5, J=0.0)
    >>> branch = continuation(free, lattice.chain(16), "Delta", [0.0, 1.0, 2.0])
    >>> closed = [single_spin_steady_state(free.replace(Delta=d)) for d in branch.values]
    >>> branch.converged, bool(np.allclose(branch.mu, closed)), branch.stable.tolist()
    (True, True, [True, True, True])
    """
    check_model(model)
    if param not in _PARAMS:
        raise ValueError(f"param must be one of {_PARAMS}, got {param!r}")
    if method not in ("natural", "arclength"):
        raise ValueError(f"method must be 'natural' or 'arclength', got {method!r}")
    if isinstance(max_points, bool) or not isinstance(max_points, Integral) or max_points < 2:
        raise ValueError(f"max_points must be an integer >= 2, got {max_points!r}")
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"values must be numbers, got {values!r}") from None
    if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
        raise ValueError("values must be a 1-d array of at least 2 finite numbers")
    options = check_options(options, SteadyOptions)
    initial = _check_initial(initial)
    _check_fits(_check_lattice(lattice), "continuation", _FLOATS_PER_SITE["steady_state"])
    prob = _Problem.of(model, lattice, options)
    points = []
    if method == "natural":
        prev = initial
        follow = dataclasses.replace(options, require_stable=options.kappa)
        for v in tqdm(values, disable=not progress, desc=f"MFQF {param}"):
            res = steady_state(model.replace(**{param: float(v)}), lattice, prev,
                               options=follow)
            points.append(res)
            prev = res if res.converged else prev
        reached = values
    else:
        points, reached = _arclength(prob, param, values, initial, max_points, progress)
    converged = all(p.converged for p in points)
    return Continuation(param=param, values=np.asarray(reached), points=tuple(points),
                        mu=np.array([p.mu for p in points]),
                        stable=np.array([p.stable for p in points], dtype=object),
                        converged=converged,
                        message="all points converged" if converged else
                        f"{sum(not p.converged for p in points)} point(s) did not converge",
                        model=model.replace(**{param: float(reached[0])}), lattice=lattice)


def _arclength(prob: _Problem, param, values, initial, max_points, progress):
    """Pseudo-arclength continuation of F(μ, p) = ∂_t μ = 0 (η slaved), secant predictor."""
    model, lattice, options = prob.model, prob.lattice, prob.options
    lo, hi = values.min(), values.max()
    ds0 = abs(values[-1] - values[0]) / (values.size - 1)
    sign = 1.0 if values[-1] >= values[0] else -1.0

    def F(mu, p):
        return prob.at(model.replace(**{param: p})).reduced(mu)[0]

    first = steady_state(model.replace(**{param: float(values[0])}), lattice, initial,
                         options=options)
    points, reached = [first], [float(values[0])]
    if not first.converged:
        return points, reached
    y = np.r_[first.mu, values[0]]
    tangent = np.r_[np.zeros(3), sign]
    ds = ds0
    bar = tqdm(total=max_points, disable=not progress, desc=f"MFQF arclength {param}")
    while len(points) < max_points:
        pred = y + ds * tangent

        def G(z, pred=pred, tangent=tangent):
            return np.r_[F(z[:3], z[3]), tangent @ (z - pred)]

        with np.errstate(all="ignore"):
            sol = scipy.optimize.root(G, pred, method="hybr", options={"xtol": options.tol})
        if not sol.success or np.linalg.norm(sol.x - y) > 3 * ds:
            ds /= 2
            if ds < 1e-6 * ds0:
                break
            continue
        z = sol.x
        p = float(z[3])
        here = prob.at(model.replace(**{param: p}))
        res = _result(here, *_checked(here, z[:3], True, ""))
        points.append(res)
        reached.append(p)
        bar.update()
        tangent = (z - y) / np.linalg.norm(z - y)
        y = z
        ds = min(1.5 * ds, 4 * ds0)
        if not lo - 1e-12 <= p <= hi + 1e-12:
            break
    bar.close()
    return points, reached
