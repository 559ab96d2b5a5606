r"""Mean field (MF): the η → 0 limit of Eqs. (4)–(6), for the XY and the Ising couplings.

Dropping the connected correlators η in Eqs. (4)–(6) (general Γ) leaves three equations for
the site magnetisation :math:`\vec\mu = (\mu_x, \mu_y, \mu_z)`,

.. math::

    \partial_t\mu_x &= -(\Delta + g\,\mu_z)\,\mu_y - \tfrac{\Gamma}{2}\mu_x,\\
    \partial_t\mu_y &= (\Delta + g\,\mu_z)\,\mu_x - 2\Omega\,\mu_z - \tfrac{\Gamma}{2}\mu_y,\\
    \partial_t\mu_z &= 2\Omega\,\mu_y - \Gamma\,(1 + \mu_z),

with :math:`g = J\mathcal Z` for the XY coupling of Eq. (2) and :math:`g = -J_z\mathcal Z` for
the Ising coupling of Eq. (B1) (App. B: :math:`J \to -J_z`).

**Derivation.** In the Heisenberg picture the bond term :math:`-\frac J2\sum(\sigma^x_R
\sigma^x_{R'} + \sigma^y_R\sigma^y_{R'})` adds :math:`-J\sum_{R'}\sigma^z_R\sigma^y_{R'}` to
:math:`\partial_t\sigma^x_R` and :math:`+J\sum_{R'}\sigma^z_R\sigma^x_{R'}` to
:math:`\partial_t\sigma^y_R` (sums over the :math:`\mathcal Z` neighbours); a product state
replaces :math:`\langle\sigma^z_R\sigma^b_{R'}\rangle` by :math:`\mu_z\mu_b`. The on-site field
:math:`\frac\Delta2\sigma^z` gives :math:`-\Delta\mu_y` and :math:`+\Delta\mu_x`, so the
coupling only shifts the detuning: **each spin precesses as a single driven, damped spin in the
effective detuning** :math:`\Delta_{\rm eff} = \Delta + g\mu_z`. For the Ising term
:math:`-\frac{J_z}2\sum\sigma^z_R\sigma^z_{R'}`, :math:`\partial_t\sigma^x_R` gains
:math:`+J_z\sum_{R'}\sigma^y_R\sigma^z_{R'}`, the same with :math:`g = -J_z\mathcal Z`.

**Fixed points.** A fixed point is therefore the single-spin steady state
(:func:`ddlib.model.single_spin_steady_state`) at :math:`\Delta_{\rm eff}`, made self-consistent
through :math:`\mu_z = -(\Gamma^2 + 4\Delta_{\rm eff}^2)/(\Gamma^2 + 4\Delta_{\rm eff}^2
+ 8\Omega^2)`, i.e. the cubic in :math:`u = \mu_z`

.. math::

    P(u) = (1 + u)\big[\Gamma^2 + 4(\Delta + g u)^2\big] + 8\Omega^2 u = 0,

whose real roots all lie in :math:`[-1, 0]`. Up to three fixed points exist; two stable ones
coexist (bistability) between the two saddle-node points where :math:`P` has a double root,
i.e. where its discriminant vanishes (the hexagrams of Fig. 2a). The discriminant is a
polynomial in Δ (degree 6), in Ω² (degree 3) and in g, so the window edges are polynomial
roots, not the result of a scan.

Units: Γ = 1 unless the model says otherwise; times in 1/Γ.

Examples
--------
The fold of Fig. 2a (Ω = 0.5, J𝒵 = 4): two stable fixed points coexist for
1.261 < Δ < 1.887; at an edge the unstable branch merges with a stable one, so the merged
point is a fixed point whose Jacobian has a zero eigenvalue (a saddle-node).

>>> import numpy as np
>>> from ddlib import Model
>>> from ddlib import meanfield as mf
>>> model = Model(Delta=0.0, Omega=0.5, J=1.0)
>>> (w,) = mf.bistable_windows(model, 4)
>>> round(w.lower, 3), round(w.upper, 3)
(1.261, 1.887)
>>> edge = model.replace(Delta=w.lower)
>>> bool(np.abs(mf.rhs(w.mu_lower, edge, 4)).max() < 1e-12)
True
>>> bool(np.abs(np.linalg.eigvals(mf.jacobian(w.mu_lower, edge, 4))).min() < 1e-9)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import NamedTuple

import numpy as np
from numpy.polynomial import Polynomial
from scipy.integrate import solve_ivp

from .lattice import Lattice
from .model import Model, _real, check_model
from .results import SolverResult, SteadyResult, SteadySummary, TrajectoryResult, check_options

__all__ = ["FixedPoint", "SteadyStates", "Window", "ResponseCurve", "EvolveOptions",
           "Trajectory", "effective_coupling", "rhs", "jacobian", "steady_states",
           "bistable_windows", "bistable_range", "bistable_edges", "response_curve", "evolve"]

_STABLE_TOL = 1e-10  # max Re λ must be below −_STABLE_TOL (marginal points are not stable)


# ----------------------------------------------------------------------------- validation

def _coordination(Z) -> float:
    if isinstance(Z, Lattice):
        return float(Z.Z)
    Z = _real("Z", Z)
    if Z < 0:
        raise ValueError(f"Z (coordination number) must be >= 0, got {Z!r}")
    return Z


def _mu_array(mu, first: bool) -> np.ndarray:
    """mu as a finite float array with its 3 components first (``first``) or last."""
    try:
        mu = np.asarray(mu, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"mu must be an array of real numbers, got {mu!r}") from None
    axis = 0 if first else -1
    if mu.ndim == 0 or mu.shape[axis] != 3 or not np.all(np.isfinite(mu)):
        where = "shape (3,) or (3, n)" if first else "shape (..., 3)"
        raise ValueError(f"mu must be finite, of {where}, got shape {mu.shape}")
    return mu


def effective_coupling(model: Model, Z) -> float:
    r"""The MF coupling :math:`g` in :math:`\Delta_{\rm eff} = \Delta + g\mu_z`.

    :math:`g = J\mathcal Z` (XY, Eqs. 4–5) or :math:`g = -J_z\mathcal Z` (Ising, App. B).

    Parameters
    ----------
    model : Model
    Z : float or Lattice
        Coordination number :math:`\mathcal Z` (or a lattice, whose ``.Z`` is used).

    Examples
    --------
    >>> from ddlib import Model, lattice
    >>> effective_coupling(Model(Delta=0.0, Omega=0.5, J=1.0), lattice.hypercubic(8, 2))
    4.0
    >>> effective_coupling(Model(Delta=0.0, Omega=0.5, J=1.0, coupling="ising"), 4)
    -4.0
    """
    model = check_model(model)
    JZ = model.J * _coordination(Z)
    return JZ if model.coupling == "xy" else -JZ


# ----------------------------------------------------------------------------- equations

def rhs(mu, model: Model, Z) -> np.ndarray:
    r"""Time derivative :math:`\partial_t\vec\mu` of the MF equations (Eqs. 4–6 with η = 0).

    Parameters
    ----------
    mu : array_like, shape (3,) or (3, n)
        :math:`(\mu_x, \mu_y, \mu_z)` (several states along the last axis).
    model : Model
    Z : float or Lattice

    Returns
    -------
    ndarray, same shape as ``mu``, in units of Γ.

    Examples
    --------
    At J = 0 every spin is alone: the single-spin closed form is the fixed point.

    >>> from ddlib import Model
    >>> from ddlib.model import single_spin_steady_state
    >>> free = Model(Delta=1.0, Omega=0.5, J=0.0)
    >>> bool(np.allclose(rhs(single_spin_steady_state(free), free, 4), 0.0))
    True
    """
    g = effective_coupling(model, Z)
    mu = _mu_array(mu, first=True)
    return _rhs(mu, model.Delta, model.Omega, g, model.Gamma)


def _rhs(mu, Delta, Omega, g, Gamma):
    x, y, z = mu
    d = Delta + g * z
    return np.array([-d * y - 0.5 * Gamma * x,
                     d * x - 2 * Omega * z - 0.5 * Gamma * y,
                     2 * Omega * y - Gamma * (1 + z)])


def jacobian(mu, model: Model, Z) -> np.ndarray:
    r"""Jacobian :math:`\partial(\partial_t\mu_a)/\partial\mu_b` of the MF equations.

    .. math::

        \mathcal J = \begin{pmatrix} -\Gamma/2 & -\Delta_{\rm eff} & -g\mu_y\\
        \Delta_{\rm eff} & -\Gamma/2 & g\mu_x - 2\Omega\\ 0 & 2\Omega & -\Gamma\end{pmatrix},
        \qquad \Delta_{\rm eff} = \Delta + g\mu_z.

    Parameters
    ----------
    mu : array_like, shape (..., 3)
    model : Model
    Z : float or Lattice

    Returns
    -------
    ndarray, shape (..., 3, 3)

    Examples
    --------
    Its trace, the rate at which phase-space volume shrinks, is −2Γ at every μ and coupling:
    the coupling only rotates (it shifts the detuning), the decay contracts.

    >>> from ddlib import Model
    >>> float(np.trace(jacobian([0.1, 0.2, -0.3], Model(Delta=1.0, Omega=0.5, J=2.0), 4)))
    -2.0
    """
    g = effective_coupling(model, Z)
    mu = _mu_array(mu, first=False)
    return _jacobian(mu, model.Delta, model.Omega, g, model.Gamma)


def _jacobian(mu, Delta, Omega, g, Gamma):
    x, y, z = mu[..., 0], mu[..., 1], mu[..., 2]
    d = Delta + g * z
    Jm = np.zeros(mu.shape[:-1] + (3, 3))
    Jm[..., 0, 0] = Jm[..., 1, 1] = -0.5 * Gamma
    Jm[..., 0, 1], Jm[..., 0, 2] = -d, -g * y
    Jm[..., 1, 0], Jm[..., 1, 2] = d, g * x - 2 * Omega
    Jm[..., 2, 1], Jm[..., 2, 2] = 2 * Omega, -Gamma
    return Jm


def _cubic(Delta, Omega2, g, Gamma):
    """Coefficients (low → high) of P(u); the arguments may be numbers or Polynomials."""
    A = Gamma**2 + 4 * Delta**2
    B = 8 * Delta * g
    C = 4 * g**2
    return A, A + B + 8 * Omega2, B + C, C


def _discriminant(e, c, b, a):
    """Discriminant of a u³ + b u² + c u + e (numbers or Polynomials)."""
    return 18 * a * b * c * e - 4 * b**3 * e + b**2 * c**2 - 4 * a * c**3 - 27 * a**2 * e**2


def _mu_from_z(z, Delta, Omega, g, Gamma):
    """The fixed point (μx, μy, μz) on the branch with μz = z: single spin at Δ + g z."""
    d = Delta + g * z
    D = Gamma**2 + 4 * d**2 + 8 * Omega**2
    return np.stack([-8 * d * Omega / D, 4 * Gamma * Omega / D, np.asarray(z, dtype=float)], -1)


# ----------------------------------------------------------------------------- fixed points

@dataclass(frozen=True)
class FixedPoint:
    r"""One MF fixed point.

    Attributes
    ----------
    mu : ndarray, shape (3,)
        :math:`(\mu_x, \mu_y, \mu_z)`.
    stable : bool
        All eigenvalues of the Jacobian have :math:`\mathrm{Re}\,\lambda < 0` (a marginal
        point, e.g. exactly at a saddle-node, counts as not stable).
    eigenvalues : ndarray of complex, shape (3,)
        Spectrum of the Jacobian, sorted by decreasing real part.
    """

    mu: np.ndarray
    stable: bool
    eigenvalues: np.ndarray

    @property
    def kappa(self) -> float:
        r"""Asymptotic relaxation rate :math:`\kappa = -\max\mathrm{Re}\,\lambda` [Γ]."""
        return float(-self.eigenvalues[0].real)


@dataclass(frozen=True, kw_only=True)
class SteadyStates(SteadyResult):
    """All MF fixed points of a model, sorted by increasing :math:`\\mu_z`.

    Iterating, indexing and ``len`` act on ``fixed_points``.

    Attributes
    ----------
    fixed_points : tuple of FixedPoint
        One, two (at a saddle-node, where two coincide) or three points.
    residual : float
        Largest :math:`|\\partial_t\\mu_a|` over the fixed points.
    converged : bool
        The residual is below 1e-10.
    message : str
    model : Model
    lattice : Lattice or None
        The lattice given for ``Z`` (None when a number was given).
    """

    fixed_points: tuple
    residual: float

    def summary(self, index: int | None = None) -> SteadySummary:
        """The portable summary (:mod:`ddlib.results`) of one fixed point, as a warm start.

        Parameters
        ----------
        index : int, optional
            Which fixed point (in the order of ``fixed_points``); default the only stable
            one (a ValueError naming ``index`` when there are several or none).
        """
        if index is None:
            stable = [i for i, p in enumerate(self.fixed_points) if p.stable]
            if len(stable) != 1:
                raise ValueError(f"index must be given: {len(stable)} stable fixed points")
            index = stable[0]
        if isinstance(index, bool) or not isinstance(index, int | np.integer) \
                or not -len(self) <= index < len(self):
            raise ValueError(f"index must be an integer below {len(self)}, got {index!r}")
        p = self.fixed_points[index]
        return SteadySummary(model=self.model, mu=tuple(map(float, p.mu)),
                             converged=bool(self.converged), message=self.message,
                             stable=bool(p.stable), kappa=p.kappa, solver="meanfield",
                             lattice=None if self.lattice is None else self.lattice.key())

    def __len__(self) -> int:
        return len(self.fixed_points)

    def __iter__(self):
        return iter(self.fixed_points)

    def __getitem__(self, i) -> FixedPoint:
        return self.fixed_points[i]

    @property
    def mu(self) -> np.ndarray:
        """All fixed points, shape (n, 3)."""
        return np.array([p.mu for p in self.fixed_points])

    @property
    def stable(self) -> np.ndarray:
        """Stability flags, shape (n,)."""
        return np.array([p.stable for p in self.fixed_points])


def _spectrum(mu, Delta, Omega, g, Gamma):
    ev = np.linalg.eigvals(_jacobian(mu, Delta, Omega, g, Gamma))
    return np.take_along_axis(ev, np.argsort(-ev.real, axis=-1), axis=-1)


def steady_states(model: Model, Z) -> SteadyStates:
    r"""Every MF fixed point (stable and unstable), from the cubic :math:`P(\mu_z) = 0`.

    .. math::

        (1 + \mu_z)\big[\Gamma^2 + 4(\Delta + g\mu_z)^2\big] + 8\Omega^2\mu_z = 0,\qquad
        \mu_x = -\frac{8\Delta_{\rm eff}\Omega}{D},\quad \mu_y = \frac{4\Gamma\Omega}{D},\quad
        D = \Gamma^2 + 4\Delta_{\rm eff}^2 + 8\Omega^2,

    with :math:`\Delta_{\rm eff} = \Delta + g\mu_z` and :math:`g = J\mathcal Z` (XY) or
    :math:`-J_z\mathcal Z` (Ising). The real roots are polished by Newton steps on :math:`P`;
    stability is read off the Jacobian's spectrum (:func:`jacobian`).

    Parameters
    ----------
    model : Model
    Z : float or Lattice
        Coordination number :math:`\mathcal Z` (a lattice: its ``.Z``).

    Returns
    -------
    SteadyStates

    Examples
    --------
    >>> from ddlib import Model
    >>> from ddlib.meanfield import steady_states
    >>> ss = steady_states(Model(Delta=1.6, Omega=0.5, J=1.0), 4)
    >>> len(ss), int(ss.stable.sum())
    (3, 2)
    """
    model = check_model(model)
    g = effective_coupling(model, Z)
    args = (model.Delta, model.Omega, g, model.Gamma)
    P = Polynomial(_cubic(model.Delta, model.Omega**2, g, model.Gamma))
    P = P.trim(tol=1e-14 * np.abs(P.coef).max())
    roots = P.roots()
    scale = np.abs(P.coef).max()
    z = np.sort(roots[np.abs(roots.imag) <= 1e-6].real)
    z = z[(z >= -1 - 1e-9) & (z <= 1e-9)]
    dP = P.deriv()
    for _ in range(3):  # Newton polish (skipped where P' vanishes: a double root)
        d = dP(z)
        ok = np.abs(d) > 1e-8 * scale
        z = np.where(ok, z - P(z) / np.where(ok, d, 1.0), z)
    z = np.clip(z, -1.0, 0.0)
    mu = _mu_from_z(z, *args)
    ev = _spectrum(mu, *args)
    points = tuple(FixedPoint(mu=m, stable=bool(e[0].real < -_STABLE_TOL), eigenvalues=e)
                   for m, e in zip(mu, ev, strict=True))
    residual = float(np.abs(_rhs(mu.T, *args)).max()) if len(points) else np.inf
    converged = len(points) > 0 and residual < 1e-10
    n_stable = sum(p.stable for p in points)
    message = (f"{len(points)} fixed point(s), {n_stable} stable; residual {residual:.1e}"
               if converged else f"fixed points not resolved (residual {residual:.1e})")
    return SteadyStates(fixed_points=points, residual=residual, converged=converged,
                        message=message, model=model, lattice=Z if isinstance(Z, Lattice) else None)


# ----------------------------------------------------------------------------- bistability

class Window(NamedTuple):
    r"""A parameter interval where two stable MF fixed points coexist.

    ``lower``/``upper`` are the edges (``window[:2]``); ``mu_lower``/``mu_upper`` the
    saddle-node points (where the unstable branch merges with a stable one: the hexagrams of
    Fig. 2a),
    shape (3,) each.
    """

    lower: float
    upper: float
    mu_lower: np.ndarray
    mu_upper: np.ndarray


_OVER = ("Delta", "Omega")


def _symbolic(model: Model, g: float, over: str):
    """P(u)'s coefficients as Polynomials in the scan variable (Δ, or Ω² for Ω)."""
    t = Polynomial([0.0, 1.0])
    if over == "Delta":
        return _cubic(t, model.Omega**2, g, model.Gamma)
    return _cubic(model.Delta, t, g, model.Gamma)


def _fold(model: Model, g: float) -> np.ndarray:
    """The double root of P at a saddle-node (root of P' where |P| is smallest)."""
    P = Polynomial(_cubic(model.Delta, model.Omega**2, g, model.Gamma))
    cand = P.deriv().roots().real
    z = cand[np.argmin(np.abs(P(cand)))]
    return _mu_from_z(z, model.Delta, model.Omega, g, model.Gamma)


def bistable_windows(model: Model, Z, over: str = "Delta") -> tuple[Window, ...]:
    r"""All intervals of ``over`` (Δ or Ω; the model's other parameters fixed) where two
    stable MF fixed points coexist.

    The edges are the real roots of the discriminant of :math:`P(\mu_z)` seen as a polynomial
    in Δ (degree 6) or in Ω² (degree 3), polished by Newton's method to ~1e-12; an interval
    between consecutive roots is kept when :math:`P` has three real roots there and two of
    them are stable (checked at its midpoint with :func:`steady_states`).

    Parameters
    ----------
    model : Model
        ``model.Delta`` (for ``over="Omega"``) or ``model.Omega`` (for ``over="Delta"``),
        ``J``, ``Gamma`` and ``coupling`` are used; the scanned parameter's value is ignored.
    Z : float or Lattice
    over : {"Delta", "Omega"}

    Returns
    -------
    tuple of Window
        Empty when there is no bistability; for Ω the edges are given as Ω (not Ω²).
    """
    model = check_model(model)
    if over not in _OVER:
        raise ValueError(f"over must be one of {_OVER}, got {over!r}")
    g = effective_coupling(model, Z)
    disc = _discriminant(*_symbolic(model, g, over))
    if not np.any(disc.coef) or g == 0:
        return ()
    disc = disc.trim(tol=1e-14 * np.abs(disc.coef).max())
    roots = disc.roots()
    t = np.unique(roots[np.abs(roots.imag) < 1e-7 * (1 + np.abs(roots))].real)
    ddisc = disc.deriv()
    for _ in range(4):
        d = ddisc(t)
        t = np.where(d != 0, t - disc(t) / np.where(d != 0, d, 1.0), t)
    if over == "Omega":
        t = np.sqrt(t[t > 0])
    windows = []
    for lo, hi in zip(t[:-1], t[1:], strict=True):
        mid = model.replace(**{over: 0.5 * (lo + hi)})
        if int(steady_states(mid, Z).stable.sum()) == 2:
            windows.append(Window(float(lo), float(hi),
                                  _fold(model.replace(**{over: lo}), g),
                                  _fold(model.replace(**{over: hi}), g)))
    return tuple(windows)


def bistable_range(Omega: float, JZ: float, coupling: str = "xy", *,
                   Gamma: float = 1.0) -> Window | None:
    r"""The Δ interval of MF bistability at fixed Ω and :math:`J\mathcal Z`.

    For the paper's Ω = 0.5, JZ = 4 (XY) this is 1.3 ≲ Δ ≲ 1.9 (Fig. 2a).

    Parameters
    ----------
    Omega : float
        Rabi frequency Ω [Γ].
    JZ : float
        :math:`J\mathcal Z` (XY) or :math:`J_z\mathcal Z` (Ising) [Γ].
    coupling : {"xy", "ising"}
    Gamma : float, default 1

    Returns
    -------
    Window or None
        ``(lower, upper, mu_lower, mu_upper)``, edges to ~1e-12; None if not bistable. When
        the discriminant admits several windows (not met at the paper's parameters) the
        widest is returned; :func:`bistable_windows` lists them all (and scans Ω too).

    Examples
    --------
    >>> w = bistable_range(0.5, 4.0)
    >>> round(w.lower, 3), round(w.upper, 3)
    (1.261, 1.887)
    >>> bistable_range(0.5, 1.0) is None  # too weak a coupling to fold the response
    True
    """
    JZ = _real("JZ", JZ)
    model = Model(Delta=0.0, Omega=Omega, J=JZ, Gamma=Gamma, coupling=coupling)
    windows = bistable_windows(model, 1.0, over="Delta")
    return max(windows, key=lambda w: w.upper - w.lower) if windows else None


def bistable_edges(Omega: float, JZ, coupling: str = "xy", *,
                   Gamma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""The MF bistability edges in Δ as curves over :math:`J\mathcal Z` (for (Δ, JZ) maps).

    Parameters
    ----------
    Omega : float
    JZ : array_like, shape (n,)
    coupling : {"xy", "ising"}
    Gamma : float, default 1

    Returns
    -------
    lower, upper : ndarray, shape (n,)
        :math:`\Delta_-(J\mathcal Z)`, :math:`\Delta_+(J\mathcal Z)`; NaN where not bistable.
    """
    try:
        JZ = np.atleast_1d(np.asarray(JZ, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"JZ must be a finite 1D array of couplings, got {JZ!r}") from None
    Model(Delta=0.0, Omega=Omega, J=0.0, Gamma=Gamma, coupling=coupling)  # validates them
    if JZ.ndim != 1 or not np.all(np.isfinite(JZ)):
        raise ValueError("JZ must be a finite 1D array of couplings")
    out = np.full((2, JZ.size), np.nan)
    for k, jz in enumerate(JZ):
        w = bistable_range(Omega, jz, coupling, Gamma=Gamma)
        if w is not None:
            out[:, k] = w.lower, w.upper
    return out[0], out[1]


# ----------------------------------------------------------------------------- full curve

@dataclass(frozen=True, kw_only=True)
class ResponseCurve(SolverResult):
    r"""The whole MF response curve (all branches, through the folds), ordered along it.

    Attributes
    ----------
    over : str
        The abscissa, ``"Delta"`` or ``"Omega"``.
    values : ndarray, shape (n,)
        Δ or Ω along the curve (not monotonic in a bistable window: the curve folds back).
    mu : ndarray, shape (n, 3)
        The fixed point at each curve point.
    stable : ndarray of bool, shape (n,)
    kappa : ndarray, shape (n,)
        :math:`-\max\mathrm{Re}\,\lambda` of the Jacobian [Γ] (vanishes at the folds).
    message : str
        The number of points and of folds (changes of stability) along the curve.
    model : Model
    lattice : Lattice or None
        The lattice given for ``Z`` (None when a number was given).
    """

    over: str
    values: np.ndarray
    mu: np.ndarray
    stable: np.ndarray
    kappa: np.ndarray


def response_curve(model: Model, Z, over: str = "Delta", bounds=(0.0, 5.0),
                   n: int = 4001) -> ResponseCurve:
    r"""Trace every MF fixed point over Δ or Ω, unstable branch included, parametrised by
    :math:`u = \mu_z \in (-1, 0)` rather than by the abscissa (so the folds are passed
    smoothly). Solving :math:`P(u) = 0` for the abscissa:

    .. math::

        \Delta = -g u \pm \tfrac12\sqrt{-\frac{8\Omega^2 u}{1 + u} - \Gamma^2},\qquad
        \Omega^2 = -\frac{(1 + u)\big[\Gamma^2 + 4(\Delta + g u)^2\big]}{8u}.

    Parameters
    ----------
    model : Model
        The scanned parameter's value is ignored.
    Z : float or Lattice
    over : {"Delta", "Omega"}
    bounds : (float, float)
        Abscissa range kept.
    n : int
        Number of samples of :math:`u` (per sign of the root for Δ).

    Returns
    -------
    ResponseCurve
        Points outside ``bounds`` are dropped.

    Examples
    --------
    In the bistable regime the curve folds twice (Fig. 2a): stable, unstable, stable.

    >>> from ddlib import Model
    >>> curve = response_curve(Model(Delta=0.0, Omega=0.5, J=1.0), 4, n=401)
    >>> curve.message
    'closed form: ..., 2 fold(s)'
    >>> bool(curve.stable[0]), bool(curve.stable.all()), bool(curve.stable[-1])
    (True, False, True)
    """
    model = check_model(model)
    if over not in _OVER:
        raise ValueError(f"over must be one of {_OVER}, got {over!r}")
    lo, hi = (_real("bounds", b) for b in bounds)
    if not lo < hi:
        raise ValueError(f"bounds must be increasing, got {bounds!r}")
    if isinstance(n, bool) or not isinstance(n, Real) or n < 10:
        raise ValueError(f"n must be an integer >= 10, got {n!r}")
    g = effective_coupling(model, Z)
    G, W = model.Gamma, model.Omega
    s = np.linspace(0.0, 1.0, int(n))[1:-1]
    if over == "Delta":
        u_max = -G**2 / (8 * W**2 + G**2)  # where the square root vanishes
        u = -1 + (1 + u_max) * s**2  # dense near u = -1, where Δ runs to ±∞
        root = 0.5 * np.sqrt(np.maximum(-8 * W**2 * u / (1 + u) - G**2, 0.0))
        u = np.concatenate([u, u[::-1]])
        x = -g * u + np.concatenate([-root, root[::-1]])
        delta, omega = x, np.full_like(x, W)
    else:
        u = -1 + s
        x = np.sqrt(-(1 + u) * (G**2 + 4 * (model.Delta + g * u) ** 2) / (8 * u))
        delta, omega = np.full_like(x, model.Delta), x
    keep = (x >= lo) & (x <= hi)
    u, x, delta, omega = u[keep], x[keep], delta[keep], omega[keep]
    mu = _mu_from_z(u, delta, omega, g, G)
    ev = np.stack([_spectrum(m, d, o, g, G) for m, d, o in zip(mu, delta, omega, strict=True)])
    kappa = -ev[:, 0].real if len(ev) else np.zeros(0)
    stable = kappa > _STABLE_TOL
    folds = int(np.count_nonzero(stable[1:] != stable[:-1]))
    return ResponseCurve(over=over, values=x, mu=mu, stable=stable, kappa=kappa,
                         message=f"closed form: {len(x)} points, {folds} fold(s)", model=model,
                         lattice=Z if isinstance(Z, Lattice) else None)


# ----------------------------------------------------------------------------- dynamics

_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")


@dataclass(frozen=True, kw_only=True)
class EvolveOptions:
    """Options of :func:`evolve`.

    Attributes
    ----------
    n_times : int, default 201
        Output times, evenly spaced on [0, t_final].
    method : str, default "DOP853"
        ``scipy.integrate.solve_ivp`` method.
    rtol, atol : float
        Integration tolerances.
    """

    n_times: int = 201
    method: str = "DOP853"
    rtol: float = 1e-9
    atol: float = 1e-11

    def __post_init__(self):
        if isinstance(self.n_times, bool) or not isinstance(self.n_times, int) \
                or self.n_times < 2:
            raise ValueError(f"n_times must be an integer >= 2, got {self.n_times!r}")
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        for name in ("rtol", "atol"):
            if _real(name, getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")


@dataclass(frozen=True, kw_only=True)
class Trajectory(TrajectoryResult):
    """MF time evolution.

    Attributes
    ----------
    times : ndarray, shape (n_times,)
        In units of 1/Γ.
    mu : ndarray, shape (n_times, 3)
        :math:`\\vec\\mu(t)`.
    success : bool
        The integrator reached ``t_final`` and :math:`|\\vec\\mu| \\le 1` throughout
        (``converged`` is a read-only alias kept for earlier code: a trajectory does not
        converge, it reaches its end time).
    message : str
    model : Model
    lattice : Lattice or None
        The lattice given for ``Z`` (None when a number was given).
    """

    times: np.ndarray
    mu: np.ndarray


def evolve(model: Model, Z, t_final: float, initial=None, *,
           options: EvolveOptions | None = None) -> Trajectory:
    r"""Integrate the MF equations (Eqs. 4–6 with η = 0) from ``initial``.

    Parameters
    ----------
    model : Model
    Z : float or Lattice
    t_final : float
        Final time [1/Γ], > 0.
    initial : array_like, shape (3,), optional
        :math:`\vec\mu(0)`, :math:`|\vec\mu| \le 1`; default all spins down, (0, 0, −1).
    options : EvolveOptions, optional

    Returns
    -------
    Trajectory

    Examples
    --------
    From all spins down, an uncoupled spin relaxes to its closed-form steady state (the slowest
    rate here is 0.62 Γ, so 40/Γ leaves ~1e-11).

    >>> from ddlib import Model
    >>> from ddlib.model import single_spin_steady_state
    >>> free = Model(Delta=1.0, Omega=0.5, J=0.0)
    >>> run = evolve(free, 4, 40.0)
    >>> run.success, bool(np.allclose(run.mu[-1], single_spin_steady_state(free), atol=1e-8))
    (True, True)
    """
    model = check_model(model)
    g = effective_coupling(model, Z)
    t_final = _real("t_final", t_final)
    if t_final <= 0:
        raise ValueError(f"t_final must be > 0, got {t_final!r}")
    options = check_options(options, EvolveOptions)
    mu0 = np.array([0.0, 0.0, -1.0]) if initial is None else np.asarray(initial, dtype=float)
    if mu0.shape != (3,) or not np.all(np.isfinite(mu0)):
        raise ValueError(f"initial must be a finite vector of shape (3,), got {initial!r}")
    if np.linalg.norm(mu0) > 1 + 1e-12:
        raise ValueError(f"initial must satisfy |mu| <= 1 (a Bloch vector), got {initial!r}")
    args = (model.Delta, model.Omega, g, model.Gamma)
    times = np.linspace(0.0, t_final, options.n_times)
    implicit = options.method in ("Radau", "BDF", "LSODA")  # the only ones using a Jacobian
    extra = {"jac": lambda t, m: _jacobian(m, *args)} if implicit else {}
    sol = solve_ivp(lambda t, m: _rhs(m, *args), (0.0, t_final), mu0, method=options.method,
                    t_eval=times, rtol=options.rtol, atol=options.atol, **extra)
    mu = sol.y.T
    where = {"model": model, "lattice": Z if isinstance(Z, Lattice) else None}
    if not sol.success:
        return Trajectory(times=sol.t, mu=mu, success=False,
                          message=f"integration failed: {sol.message}", **where)
    bloch = np.linalg.norm(mu, axis=1).max()
    if bloch > 1 + 1e-6:
        return Trajectory(times=times, mu=mu, success=False,
                          message=f"|mu| reached {bloch:.6f} > 1", **where)
    return Trajectory(times=times, mu=mu, success=True, message="integrated to t_final", **where)
