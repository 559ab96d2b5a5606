r"""MFQF steady states: the reduced root problem in μ, branch following from a warm start,
the checks (residual, physicality, κ) and the result (see :mod:`ddlib.mfqf`)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from numbers import Real

import numpy as np
import scipy.optimize
import scipy.sparse.linalg

from ..lattice import Lattice
from ..model import Model
from ..results import SteadyResult, SteadySummary, check_options
from .equations import (
    _FLOATS_PER_SITE,
    _PAIR,
    PAIRS,
    EvolveOptions,
    _check_fits,
    _check_initial,
    _check_lattice,
    _Const,
    _constants,
    _Geometry,
    _geometry,
    _initial_mu,
    _positive,
    _rhs_flat,
    _unpack,
    evolve,
)
from .green import _bulk_growth, _Fourier, _reduced
from .stability import _jacobian_spectrum


@dataclass(frozen=True, kw_only=True)
class SteadyOptions:
    """Options of :func:`steady_state`.

    Parameters
    ----------
    t_pre : float
        Without a warm start, the state is first evolved from ``initial`` for this time (on a
        lattice of at most ``pre_sites`` sites, same D) to pick the branch reached dynamically.
    pre_sites : int
        Size limit of that pre-integration lattice.
    tol : float
        Tolerance of the root finder on μ.
    residual_tol : float
        The steady state is converged when the full right-hand side (all of μ and η) is below
        this in max norm.
    kappa : bool
        Compute the relaxation rate κ and the stability (ARPACK, the costly part at large N).
    eigs_tol : float
        ARPACK tolerance.
    require_stable : bool
        Accept only a *stable* fixed point (κ > 0), as a caller following a stable branch
        needs: past a fold, a warm-started root search can converge to the unstable fixed
        point next to it. When the root found is unstable, the state is relaxed in time from
        the start state instead (as a slow physical sweep does) and the search retried; if
        that still gives no stable fixed point (or κ did not converge), the result has
        ``converged=False`` and says why in ``message``. Needs ``kappa=True``.
        :func:`continuation` with ``method="natural"`` sets it whenever κ is computed.
    """

    t_pre: float = 40.0
    pre_sites: int = 2048
    tol: float = 1e-12
    residual_tol: float = 1e-8
    kappa: bool = True
    eigs_tol: float = 1e-7
    require_stable: bool = False

    def __post_init__(self):
        for name in ("t_pre", "tol", "eigs_tol"):
            _positive(name, getattr(self, name))
        if not (isinstance(self.residual_tol, Real) and self.residual_tol >= 0):
            raise ValueError(f"residual_tol must be >= 0, got {self.residual_tol!r}")
        if isinstance(self.pre_sites, bool) or not isinstance(self.pre_sites, int) \
                or self.pre_sites < 3:
            raise ValueError(f"pre_sites must be an integer >= 3, got {self.pre_sites!r}")
        if self.require_stable and not self.kappa:
            raise ValueError("require_stable=True needs kappa=True (stability comes from the "
                             "Jacobian's leading eigenvalue)")


@dataclass(frozen=True, kw_only=True)
class SteadyState(SteadyResult):
    """Result of :func:`steady_state`.

    Attributes
    ----------
    mu : ndarray, shape (3,)
        :math:`\\vec\\mu^S`.
    eta : ndarray, shape (3, 3, *lattice.shape)
        ``eta[a, b][R]`` = :math:`\\eta_{ab}(R)` at the displacement R whose components are the
        array indices taken mod L (index L − 1 is R = −1). Symmetric in a, b;
        ``eta[:, :, 0, ..., 0] = 0`` (R = 0 is not a correlator).
    converged : bool
    residual : float
        Max norm of the full right-hand side (μ and every η_ab(R)) at the returned state.
    kappa : float
        Asymptotic relaxation rate: minus the real part of the rightmost eigenvalue of the
        Jacobian of the MFQF equations (μ and η) at the fixed point, among the perturbations
        with the lattice's symmetry (those a translation-invariant evolution can contain;
        NaN if not computed).
    kappa_imag : float
        Imaginary part of that eigenvalue (a non-zero value means oscillating relaxation).
    stable : bool or None
        ``kappa > 0`` (None when κ was not computed).
    physical : bool
        The state is a possible one: :math:`|\\vec\\mu| \\le 1` and every
        :math:`|\\langle\\sigma^a_R\\sigma^b_0\\rangle| = |\\eta_{ab}(R) + \\mu_a\\mu_b| \\le 1`
        (to 1e-9). The MFQF closure does not enforce this: a fixed point of the closed
        equations with correlators beyond 1 keeps ``converged=True`` (it *is* a fixed point of
        MFQF) but has ``physical=False`` and says so in ``message``; one with
        :math:`|\\vec\\mu| > 1` has ``converged=False`` as well.
    correlation_length : ndarray, shape (3, 3)
        :math:`\\lambda_{ab}` of a fit :math:`|\\eta_{ab}(R\\hat e_1)| \\sim e^{-\\lambda_{ab}R}`
        over :math:`1 \\le R \\le L/4` (an inverse length, as in Fig. 2b; NaN where η_ab ≡ 0).
    total_correlation : ndarray, shape (3, 3)
        :math:`\\Sigma_{ab} = \\sum_{R\\neq0}\\eta_{ab}(R)`.
    message : str
    """

    mu: np.ndarray
    eta: np.ndarray
    residual: float
    kappa: float
    kappa_imag: float
    stable: bool | None
    physical: bool
    correlation_length: np.ndarray
    total_correlation: np.ndarray

    def summary(self) -> SteadySummary:
        """The portable summary of this state (:mod:`ddlib.results`), accepted as a warm start."""
        return SteadySummary(model=self.model, mu=tuple(map(float, self.mu)),
                             converged=bool(self.converged), message=self.message,
                             stable=self.stable, kappa=float(self.kappa), solver="mfqf",
                             sigma=self.total_correlation, lam=self.correlation_length,
                             lattice=self.lattice.key())


def _correlation_length(x: np.ndarray, geo: _Geometry) -> np.ndarray:
    """λ_ab from a least-squares fit of log|η_ab(r ê_1)| over 1 ≤ r ≤ max(2, L/4)."""
    L = geo.shape[0]
    r = np.arange(1, max(2, L // 4) + 1)
    idx = np.ravel_multi_index(
        tuple(np.stack([r] + [np.zeros_like(r)] * (geo.dim - 1))), geo.shape)
    lam = np.full(6, np.nan)
    for p in range(6):
        v = np.abs(x[p, idx])
        ok = v > max(1e-13 * v.max(), 1e-300)
        if ok.sum() >= 2:
            lam[p] = -np.polyfit(r[ok], np.log(v[ok]), 1)[0]
    return lam[_PAIR]


@dataclass(frozen=True, eq=False)
class _Problem:
    """One MFQF fixed-point problem: a model on a lattice, with what is derived from them once
    (geometry and neighbour tables, the model's μ-independent coefficients, the wave-vector
    tables of the Green's functions) and the solver options."""

    model: Model
    lattice: Lattice
    geo: _Geometry
    const: _Const
    fk: _Fourier
    options: SteadyOptions

    @classmethod
    def of(cls, model: Model, lattice: Lattice, options: SteadyOptions) -> _Problem:
        geo = _geometry(lattice)
        return cls(model, lattice, geo, _constants(model), _Fourier.of(geo), options)

    def at(self, model: Model) -> _Problem:
        """The same lattice and options at another model."""
        return dataclasses.replace(self, model=model, const=_constants(model))

    def reduced(self, mu, full: bool = False):
        """∂_t μ with η slaved (:func:`~ddlib.mfqf.green._reduced`)."""
        return _reduced(mu, self.const, self.geo, self.fk, full)

    def bulk_growth(self, mu) -> float:
        """Growth rate of the bulk correlator modes (:func:`~ddlib.mfqf.green._bulk_growth`)."""
        return _bulk_growth(mu, self.const, self.geo, self.fk)


def _fixed_point(prob: _Problem, mu_start):
    """Root of the reduced μ problem from mu_start, then the full state and its checks."""
    sol = _root(lambda m: prob.reduced(m)[0], mu_start, prob.options.tol)
    return _checked(prob, sol.x, sol.success, sol.message)


# |∂_t μ| below which the reduced problem is solved to rounding (its terms are O(Γ, Δ, Ω, J𝒵)
# times |μ| ≤ 1: a few ulp of each is ~1e-15)
_F_FLOOR = 1e-14


def _root(f, x0, tol):
    """MINPACK hybrid root of f from x0 (floating-point warnings of trial points silenced).

    MINPACK stops on the step size (``xtol``); once f is at its rounding floor the steps are
    rounding noise, its trust region stalls and it reports "not making good progress" (or
    "xtol too small") at an exact root — as at J = 0, where ∂_t μ is linear in μ and the first
    Newton step lands on the root. Those stops are a success when max |f| ≤ :data:`_F_FLOOR`.
    """
    with np.errstate(all="ignore"):
        sol = scipy.optimize.root(f, x0, method="hybr", options={"xtol": tol})
    if not sol.success and sol.status in (3, 4, 5) and np.all(np.isfinite(sol.fun)) \
            and np.abs(sol.fun).max() <= _F_FLOOR:
        sol.success = True
        sol.message = (f"root to rounding (max |F| = {np.abs(sol.fun).max():.1e}); MINPACK "
                       f"stopped on its step test: {sol.message}")
    return sol


def _jacobian(f, x, fx, h=1e-7):
    """Forward-difference Jacobian of f at x (f(x) = fx given)."""
    return np.column_stack([(f(x + h * e) - fx) / h for e in np.eye(x.size)])


def _follow(prob: _Problem, start_model: Model, start_mu):
    r"""Follow the branch of fixed points through a warm start (``start_model``,
    ``start_mu``) to ``prob.model``.

    The reduced root problem :math:`F(\vec\mu, s) = \partial_t\vec\mu = 0` is tracked along
    the straight homotopy :math:`p(s) = (1 - s)\,p_{\rm start} + s\,p` of the model
    parameters (Δ, Ω, J, Γ), s: 0 → 1, by natural-parameter continuation: tangent predictor
    :math:`\dot\mu = -(\partial_\mu F)^{-1}\partial_s F`, MINPACK corrector, step doubled on
    success and halved on failure. A corrected point is accepted only close to its predictor
    and with the sign of :math:`\det\partial_\mu F` unchanged: at a saddle-node fold that sign
    flips between the two branches, so the path cannot slip onto the unstable branch next to
    a fold (or jump to a far-away root) as a plain warm-started root search can. Nor may the
    sign of the bulk correlator growth rate (:func:`_bulk_growth`) change: next to a fold the
    reduced problem also has roots whose slaved correlators are unstable (it has poles where
    that rate crosses zero), and a branch whose correlators turn unstable ends there.

    Returns (mu, success, why): ``success`` False when the branch ends (a fold) before s = 1
    or the root search fails; ``why`` says where.
    """
    names = ("Delta", "Omega", "J", "Gamma")
    p0 = np.array([getattr(start_model, k) for k in names])
    p1 = np.array([getattr(prob.model, k) for k in names])
    tol = prob.options.tol

    @functools.lru_cache(maxsize=4)  # a root search evaluates F many times at one s
    def at(s):
        return prob.at(prob.model.replace(**dict(zip(names, (1 - s) * p0 + s * p1,
                                                      strict=True))))

    def F(mu, s):
        return at(s).reduced(mu)[0]

    def kind(mu, s, Jac):  # what may not change along a branch
        return np.sign(np.linalg.det(Jac)), at(s).bulk_growth(mu) < 0

    sol = _root(lambda m: F(m, 0.0), np.asarray(start_mu, dtype=float), tol)
    if not sol.success:
        return sol.x, False, f"no fixed point next to the warm start ({sol.message})"
    mu, s, h = sol.x, 0.0, 1.0
    Fmu = F(mu, s)
    Jac = _jacobian(lambda m: F(m, s), mu, Fmu)
    branch = kind(mu, s, Jac)
    while s < 1.0:
        h = min(h, 1.0 - s)
        t = 1.0 if s + h >= 1.0 - 1e-12 else s + h
        with np.errstate(all="ignore"):
            tangent = -np.linalg.lstsq(Jac, (F(mu, s + 1e-7) - Fmu) / 1e-7, rcond=None)[0]
        pred = mu + (t - s) * tangent
        sol = _root(lambda m, t=t: F(m, t), pred, tol)
        ok = sol.success and np.all(np.isfinite(sol.x)) and \
            np.linalg.norm(sol.x - pred) <= 0.5 * np.linalg.norm(pred - mu) + 1e-9
        if ok:
            F_new = F(sol.x, t)
            Jac_new = _jacobian(lambda m, t=t: F(m, t), sol.x, F_new)
            ok = kind(sol.x, t, Jac_new) == branch
        if ok:
            mu, s, Fmu, Jac, h = sol.x, t, F_new, Jac_new, 2 * h
        else:
            h /= 2
            if h < 1e-6:
                here = dict(zip(names, (1 - s) * p0 + s * p1, strict=True))
                return mu, False, ("the branch of the warm start ends (a fold) near Delta = "
                                   f"{here['Delta']:.6g}, Omega = {here['Omega']:.6g}, "
                                   f"J = {here['J']:.6g}")
    return mu, True, "followed the warm start's branch"


def _checked(prob: _Problem, mu, success, why):
    """(mu, x, residual, problem) at a root candidate mu; problem is "" when all is well."""
    with np.errstate(all="ignore"):
        _, x = prob.reduced(mu, full=True)
    if x is None or not np.all(np.isfinite(mu)) or not np.all(np.isfinite(x)):
        return mu, np.zeros((6, prob.geo.N)), np.inf, f"no fixed point found ({why})"
    residual = float(np.abs(_rhs_flat(np.concatenate([mu, x.ravel()]), prob.geo,
                                      prob.const)).max())
    if not success:
        return mu, x, residual, f"root finder failed: {why}"
    if np.linalg.norm(mu) > 1 + 1e-9:
        return mu, x, residual, (f"unphysical fixed point |mu| = {np.linalg.norm(mu):.6g} > 1 "
                                 "(physical=False)")
    if residual > prob.options.residual_tol:
        return mu, x, residual, f"residual {residual:.3g} > residual_tol"
    return mu, x, residual, ""


def _physicality(mu, x) -> tuple[bool, str]:
    """(physical, note): |μ| ≤ 1 and every |⟨σ^a_R σ^b_0⟩| = |η_ab(R) + μ_a μ_b| ≤ 1 (to 1e-9);
    the note names the largest violation ("" when physical)."""
    norm = float(np.linalg.norm(mu))
    with np.errstate(all="ignore"):
        theta = np.abs(x + np.array([mu[a] * mu[b] for a, b in PAIRS])[:, None])[:, 1:]
    big = float(theta.max(initial=0.0))
    if not (np.isfinite(norm) and np.isfinite(big)):
        return False, "; unphysical (physical=False): non-finite state"
    if norm > 1 + 1e-9:
        return False, f"; unphysical (physical=False): |mu| = {norm:.6g} > 1"
    if big > 1 + 1e-9:
        return False, (f"; unphysical (physical=False): max |<sigma sigma>| = {big:.3g} > 1, "
                       "the MFQF closure is outside its physical range")
    return True, ""


def steady_state(model: Model, lattice: Lattice, initial=None, *,
                 options: SteadyOptions | None = None) -> SteadyState:
    r"""MFQF steady state: ∂_t μ = 0 and ∂_t η_ab(R) = 0 for all R ≠ 0.

    The route (module docstring): η is slaved to μ by one lattice Green's-function solve, so
    the fixed point is a 3-dimensional root problem in μ (MINPACK ``hybr``); the residual of the
    full equations is then evaluated with the numba kernel. Far faster than time integration,
    also next to a saddle-node edge where relaxation is critically slow, and it finds unstable
    fixed points as well (reported with ``stable=False``).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Periodic ``hypercubic(L, dim)`` or ``chain(N)``.
    initial : None, (mu, eta), Evolution, SteadyState or SteadySummary
        A :class:`SteadyState` or a :class:`~ddlib.results.SteadySummary` (what a sweep
        keeps, ``state.summary()``; of any solver, read back from JSON alike) is a warm
        start: the branch of fixed points through it is
        followed from its parameters to ``model``'s (on ``lattice``, any warm-start size;
        :func:`_follow`), which keeps to that branch next to a fold, where a plain root search
        may slip onto the unstable branch. Where the branch ends before (a fold), a plain root
        search from its μ is made. If that finds no root (or, with
        ``options.require_stable``, only an unstable one), the state is relaxed from the warm
        start's (μ, η) as below, on ``lattice`` itself when the warm start is of the same size.
        Otherwise the state is first evolved for ``options.t_pre`` from ``initial``'s μ (the
        last one of an Evolution) and its η if that fits the pre-integration lattice, else η = 0
        (default all spins down, μ = (0, 0, −1)), on a lattice of at most
        ``options.pre_sites`` sites, which selects the branch reached dynamically; if the root
        search fails from there or finds an unstable fixed point (κ < 0; without κ: one whose
        bulk correlator modes grow), the evolution is continued for ``10 * t_pre`` and the
        search retried. Anything else (e.g. a record that merely has ``.mu`` and ``.model``)
        is a TypeError naming ``initial``, before any work.
    options : SteadyOptions, optional
        None: the defaults.

    Returns
    -------
    SteadyState
        ``converged`` is False, with the reason in ``message``, when no root was found, the
        full residual exceeds ``options.residual_tol`` or :math:`|\vec\mu| > 1`, or (with
        ``options.require_stable``) only an unstable fixed point was found.

    Examples
    --------
    On a six-site ring at weak coupling the correlators bring MFQF some hundred times closer
    to the exact steady state than mean field (4e-5 against 8e-3 in μ):

    >>> import numpy as np
    >>> from ddlib import Model, exact, lattice, meanfield
    >>> model, ring = Model(Delta=1.0, Omega=0.5, J=0.2), lattice.chain(6)
    >>> mu_exact = exact.steady_state(model, ring).mu
    >>> state = steady_state(model, ring)
    >>> state.converged, bool(np.abs(state.mu - mu_exact).max() < 1e-4)
    (True, True)
    >>> bool(np.abs(meanfield.steady_states(model, ring)[0].mu - mu_exact).max() > 5e-3)
    True
    """
    options = check_options(options, SteadyOptions)
    _constants(model)
    initial = _check_initial(initial)
    _check_fits(_check_lattice(lattice), "steady state", _FLOATS_PER_SITE["steady_state"])
    result = _steady_state(_Problem.of(model, lattice, options), initial)
    if options.require_stable and result.converged and result.stable is not True:
        why = ("its stability is unknown (kappa did not converge)" if result.stable is None
               else f"it is unstable (kappa = {result.kappa:.3g})")
        result = dataclasses.replace(
            result, converged=False, message="require_stable: no stable fixed point found, "
                                             f"the fixed point reached {why}")
    return result


def _is_warm(initial) -> bool:
    """A warm start, whose branch is followed: a SteadyState or a SteadySummary (both carry the
    model they were solved at; checked by :func:`~ddlib.mfqf.equations._check_initial`)."""
    return isinstance(initial, SteadyState | SteadySummary)


def _steady_state(prob: _Problem, initial) -> SteadyState:
    """:func:`steady_state` without the final require_stable verdict."""
    model, lattice, geo, options = prob.model, prob.lattice, prob.geo, prob.options
    if _is_warm(initial):
        if initial.model.coupling == model.coupling:
            found = _checked(prob, *_follow(prob, initial.model, initial.mu))
        else:
            found = (None, None, None, "no branch to follow across couplings")
        if found[3]:  # no branch to follow to here: a plain root search from the warm start
            found = _fixed_point(prob, np.asarray(initial.mu, dtype=float))
        result = _result(prob, *found)
        rooted = result.residual <= options.residual_tol  # a root, if maybe a flagged one
        if rooted and (not options.require_stable or result.stable):
            return result
        # relax in time from the warm start instead (no root found from it, or only an
        # unstable one where a stable one is required): on this very lattice when the warm
        # start is of it (a smaller one may have its fold elsewhere and relax to the other branch)
        initial = (initial.mu, getattr(initial, "eta", None))
        L_pre = geo.shape[0] if np.shape(initial[1]) == (3, 3, *geo.shape) else None
    else:
        L_pre = None
    mu0 = _initial_mu(initial)
    L_pre = L_pre or max(3, min(geo.shape[0], int(round(options.pre_sites ** (1 / geo.dim)))))
    pre_lattice = lattice if L_pre == geo.shape[0] else _same_kind(lattice, L_pre)
    pre_shape = (3, 3, *_geometry(pre_lattice).shape)
    eta0 = initial[1] if isinstance(initial, tuple) else getattr(initial, "eta", None)
    pre = (mu0, eta0 if np.shape(eta0) == pre_shape else np.zeros(pre_shape))
    # slow relaxation: if the root search fails, or lands on an unstable fixed point next to
    # the one the dynamics is heading for, evolve longer and retry
    for t_pre in (options.t_pre, 10 * options.t_pre):
        pre = evolve(model, pre_lattice, t_pre, pre, options=EvolveOptions(n_times=2))
        if not pre.success:
            problem = f"pre-integration failed: {pre.message}"
            return _result(prob, pre.mu[-1], np.zeros((6, geo.N)), np.inf, problem)
        found = _fixed_point(prob, pre.mu[-1])
        if not found[3]:
            result = _result(prob, *found)
            # without κ, a root whose bulk correlators grow is unstable as well
            if result.stable or (result.stable is None and prob.bulk_growth(found[0]) < 0):
                return result
    return result if not found[3] else _result(prob, *found)


def _result(prob: _Problem, mu, x, residual, problem) -> SteadyState:
    """Assemble a SteadyState: κ and stability, correlation length, total correlation."""
    converged = not problem
    kappa = kappa_imag = np.nan
    stable = None
    physical, note = _physicality(mu, x)
    message = problem or "converged" + note
    if converged and prob.options.kappa:
        try:
            ev = _jacobian_spectrum(mu, x, prob.geo, prob.const, prob.options.eigs_tol)
            kappa, kappa_imag = -float(ev[0].real), float(abs(ev[0].imag))
            stable = kappa > 0
        except scipy.sparse.linalg.ArpackNoConvergence:
            message = ("converged; the Jacobian's leading eigenvalue (kappa) did not converge"
                       + note)
    eta = _unpack(x, prob.geo.shape)
    return SteadyState(mu=mu, eta=eta, converged=converged, residual=residual, kappa=kappa,
                       kappa_imag=kappa_imag, stable=stable, physical=physical,
                       correlation_length=_correlation_length(x, prob.geo),
                       total_correlation=eta.reshape(3, 3, -1).sum(axis=2), message=message,
                       model=prob.model, lattice=prob.lattice)


def _same_kind(lattice: Lattice, L: int) -> Lattice:
    """The lattice of the same kind and dimension with linear size L."""
    from .. import lattice as lattices

    if lattice.kind == "chain":
        return lattices.chain(L)
    return lattices.hypercubic(L, lattice.dim)
