r"""Exact steady states of small clusters, reduced by the lattice's symmetry.

The Lindblad equation (Eqs. 1–3, Γ = 1 unless the model says otherwise)

.. math::

    \partial_t\rho = \mathcal L\rho = -i[H,\rho] + \Gamma\sum_R\Big[\sigma^-_R\rho\,\sigma^+_R
        - \tfrac12\{\sigma^+_R\sigma^-_R,\rho\}\Big]

has a unique steady state :math:`\mathcal L\rho_S = 0`, :math:`\mathrm{tr}\rho_S = 1` in a
finite system. Any permutation :math:`g` of the sites that maps bonds onto bonds (an
automorphism of the lattice graph) commutes with :math:`\mathcal L`, so :math:`g\rho_S g^{-1}`
is a steady state too and, by uniqueness, equals :math:`\rho_S`. The solve is therefore done in
the subspace of invariant operators, never with the :math:`4^N\times4^N` Liouvillian:

* **orbit route** (any lattice except the fully connected one): the unknowns are the values of
  :math:`\rho_{ab}` on the orbits of the pairs of basis states :math:`(a, b)` under the
  automorphism group G (``lattice.automorphisms()``) acting on both. :math:`(\mathcal L\rho)_{ab}`
  is invariant too, so one equation per orbit (at its representative pair) suffices; each row
  is built by numba kernels from the action of H (Δ/2 σᶻ diagonal, Ω σˣ flips, J flip-flops or
  J σᶻσᶻ) and of the jumps σ⁻ on a representative, the columns being the orbits of the pairs
  reached. The 8-ring (|G| = 16) has 4435 orbits, the 2D N = 8 cluster (the graph K₄,₄)
  630, the 2D N = 10 cluster (|G| = 240) 7882.
* **permutation route** (fully connected lattice, G = S_N): a permutation-invariant operator
  is a symmetric tensor in :math:`(\mathbb C^4)^{\otimes N}` over the single-site operator
  basis :math:`E_0 = |{\uparrow}\rangle\langle{\uparrow}|`,
  :math:`E_1 = |{\uparrow}\rangle\langle{\downarrow}|`,
  :math:`E_2 = |{\downarrow}\rangle\langle{\uparrow}|`,
  :math:`E_3 = |{\downarrow}\rangle\langle{\downarrow}|`, labelled by the occupations
  :math:`n = (n_0, n_1, n_2, n_3)`, :math:`\sum_\alpha n_\alpha = N` — dimension
  :math:`\binom{N+3}{3}` (286 at N = 10, 176 851 at N = 100). In the orthonormal basis
  :math:`|n\rangle = S_n/\sqrt{M(n)}` (:math:`S_n` the sum of the :math:`M(n) = N!/\prod n_\alpha!`
  distinct tensor products with these occupations) a sum of identical one-site superoperators
  :math:`\ell` and the all-pairs two-site superoperator :math:`\ell^{(2)}` of the bonds act as
  four boson modes,

  .. math::

      \mathcal L = \sum_{\alpha\beta}\ell_{\alpha\beta}\,a^\dagger_\alpha a_\beta
          + \tfrac12\sum_{\alpha\beta\gamma\delta}\ell^{(2)}_{\alpha\beta,\gamma\delta}\,
            a^\dagger_\alpha a^\dagger_\beta a_\gamma a_\delta ,

  with :math:`\ell_{\alpha\beta} = \mathrm{tr}(E_\alpha^\dagger\,\ell(E_\beta))` (and likewise
  for the pair). Everything is double precision (unlike ``qutip.piqs``, whose core stores the
  Lindblad rates as C ``float``).

In both routes ρ = ρ† is used to write the unknowns as real numbers (same count), the equation
of the all-down orbit is replaced by the trace condition, and the real sparse system is solved
by a sparse direct solver — Intel MKL PARDISO (``pypardiso``, nested-dissection ordering) for
large systems when installed, SciPy's SuperLU otherwise. Fill-in is the cost: FC N = 50 takes
2 s with PARDISO (15 s with SuperLU), FC N = 100 (176 851 unknowns) about a minute and 2 GB
(SuperLU: beyond 4 minutes); see ``benchmarks/exact.py``. A solve whose residual is not small
is retried by the other LU before the state is called unconverged (PARDISO's perturbed pivots
fail on the N = 8 ring at JZ = 6–8, where SuperLU succeeds), and an unconverged state has NaN
observables. Before anything is built, :func:`memory_estimate` (unknowns by Burnside's lemma,
LU fill measured) is compared with the memory available; a lattice that would not fit is
refused at once (:class:`ResourceError`, a ``ValueError`` naming ``lattice``).

P(M_x = m) (Fig. 1a) is read off the diagonal of
:math:`U^{\otimes N}\rho\,U^{\dagger\otimes N}`, U rotating each spin to the x basis: on the
full ρ for the orbit route, by ``expm_multiply`` of the one-body rotation generator (unitary
in the orthonormal basis, so stable at any N) for the permutation route.

Conventions are those of :mod:`ddlib.model`: basis (|↑⟩, |↓⟩), σ⁻ = |↓⟩⟨↑|, site 0 the leftmost
tensor factor, so the full ρ returned by :meth:`SteadyState.rho` can be compared entry by entry
with ``qutip.steadystate(ddlib.model.liouvillian(model, lattice))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._numba import njit
from .lattice import Lattice, check_lattice
from .model import (
    PAULI,
    SIGMA_MINUS,
    Model,
    _real,
    bond_matrix,
    bond_terms,
    check_model,
    jump_rate,
    onsite_matrix,
    onsite_terms,
)
from .resources import available_memory
from .results import SteadyResult, SteadySummary, check_options

__all__ = ["SteadyStateOptions", "SteadyState", "steady_state", "bimodality_index", "scan",
           "gap_scan", "GapOptions", "LiouvillianGap", "liouvillian_gap", "ROUTES", "SECTORS",
           "MemoryEstimate", "memory_estimate", "ResourceError"]

ROUTES = ("auto", "orbits", "permutation")
LINEAR_SOLVERS = ("auto", "superlu", "pardiso")
_PARDISO_MIN = 2000    # "auto" hands systems at least this large to PARDISO when installed
_REFINE_STEPS = 10     # at most this many iterative-refinement steps after an LU solve
_RETRY_RESIDUAL = 1e-10  # relative residual above which a linear solve counts as failed
SECTORS = ("symmetric", "full")
_MAX_ORBIT_N = 12      # 4^12 pairs (16.8 M) is the largest orbit table we build
_MAX_FULL_N = 6        # the full 4^N Liouvillian (sector="full") only up to here

_SY = PAULI["y"]
_E = [np.outer(np.eye(2)[i], np.eye(2)[j]).astype(complex) for i, j in
      ((0, 0), (0, 1), (1, 0), (1, 1))]                    # E_0..E_3


# ----------------------------------------------------------------------------- validation

def _check(model, lattice) -> None:
    check_model(model)
    check_lattice(lattice)


def _route_name(lattice: Lattice, route: str) -> str:
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    if route == "auto":
        route = "permutation" if lattice.kind == "fully_connected" else "orbits"
    if route == "permutation" and lattice.kind != "fully_connected":
        raise ValueError("route='permutation' needs a fully_connected lattice, got "
                         f"{lattice!r}")
    return route


def _route(lattice: Lattice, route: str) -> str:
    route = _route_name(lattice, route)
    if route == "orbits" and lattice.N > _MAX_ORBIT_N:
        raise ValueError(f"lattice has N={lattice.N} sites; route='orbits' is limited to "
                         f"N <= {_MAX_ORBIT_N} (4^N pairs are enumerated)")
    return route


# ----------------------------------------------------------------------------- resources

class ResourceError(ValueError):
    """A computation refused before it starts: its memory estimate exceeds what is available.

    Derived from ``ValueError`` (the lattice is too large for this machine); the message names
    ``lattice``, states the estimate in GB and the largest N of the same kind that fits.
    """


# Fill-in measured with PARDISO (iparm[17], nested dissection; 8.2 bytes per factor entry,
# numeric phase, iparm[16]), Ω = 0.5, JZ = 6, Δ = 3: FC N = 40, 50, 60: 1.72, 1.84, 1.81·N⁴
# (a 3D simplex of occupations: nested dissection fills ~n^(4/3) ~ N⁴); orbit systems have
# no low-dimensional structure: ring N = 6…9 0.44, 0.47, 0.44, 0.42·n², 2D N = 8…10
# 0.34, 0.40, 0.38·n². SuperLU (COLAMD) fills ~1.5× more on the ring N = 8. Checked against
# the peak RSS above the import baseline (benchmarks/exact.py, 2 CPUs): FC N = 50 154 MB
# (estimate 157), FC N = 80 835 MB (883), 2D N = 10 232 MB (361: n²/2 is an upper bound).
_FILL_FC = 2.0          # LU entries per N⁴, permutation route
_FILL_ORBITS = 0.5      # LU entries per n², orbit route
_BYTES_LU = 8.5         # bytes per LU entry
_BYTES_ROW = 2500.0     # bytes per unknown besides the LU (COO rows, Hermitian split, copies)
_BYTES_PAIR = 90.0      # bytes per pair (a, b) of the orbit route (tables, full ρ, P_x)


@dataclass(frozen=True)
class MemoryEstimate:
    """What an exact solve on a lattice needs, estimated before anything is built.

    Attributes
    ----------
    route : str
        ``"orbits"``, ``"permutation"`` or ``"full"`` (the 4^N Liouvillian, dense).
    unknowns : int
        Size of the reduced linear system (Burnside's count of orbits, or C(N+3, 3)).
    lu_nonzeros : float
        Estimated entries of the sparse LU factors (0 for dense work).
    bytes : float
        Estimated peak memory [bytes].
    available : float
        Memory available on this machine now [bytes] (``MemAvailable``).
    """

    route: str
    unknowns: int
    lu_nonzeros: float
    bytes: float
    available: float

    @property
    def gb(self) -> float:
        """``bytes`` in GB (10⁹ bytes)."""
        return self.bytes / 1e9

    @property
    def fits(self) -> bool:
        """The estimate is below the available memory."""
        return self.bytes <= self.available


def _orbit_count(lattice: Lattice) -> int:
    """Burnside: the number of orbits of pairs (a, b) is the mean over g of 4^(cycles of g)."""
    if lattice.kind == "fully_connected":                 # G = S_N: the compositions
        return math.comb(lattice.N + 3, 3)
    G = lattice.automorphisms()
    rows = np.arange(len(G))[:, None]
    length = np.zeros(G.shape, dtype=np.int64)           # cycle length through each site
    power = G.copy()
    for k in range(1, lattice.N + 1):
        length[(power == np.arange(lattice.N)) & (length == 0)] = k
        power = G[rows, power]
    cycles = np.rint((1.0 / length).sum(axis=1)).astype(np.int64)
    return int(sum(4**int(c) for c in cycles) // len(G))


def _bytes(route: str, N: int, n: float) -> tuple[float, float]:
    """(LU entries, peak bytes) of a solve with n unknowns on N sites."""
    if route == "permutation":
        lu = min(_FILL_FC * float(N) ** 4, 0.5 * float(n) ** 2)
        return lu, _BYTES_LU * lu + _BYTES_ROW * n
    if route == "orbits":
        lu = _FILL_ORBITS * float(n) ** 2
        return lu, _BYTES_LU * lu + _BYTES_ROW * n + _BYTES_PAIR * 4.0**N
    return 0.0, 3 * 16 * 16.0**N                    # dense 4^N x 4^N complex, eig workspace


def memory_estimate(lattice: Lattice, *, route: str = "auto") -> MemoryEstimate:
    r"""Estimate the memory of :func:`steady_state` on ``lattice``, in milliseconds.

    The reduced system has ``unknowns`` = :math:`\binom{N+3}{3}` (permutation route) or the
    number of orbits of pairs of basis states under the lattice's automorphism group G,
    :math:`|G|^{-1}\sum_{g\in G}4^{c(g)}` (Burnside, :math:`c(g)` the cycles of g on the
    sites; orbit route); its sparse LU factors hold about :math:`2N^4` entries (FC: the
    occupations form a 3D simplex, which nested dissection fills like a 3D grid) or
    :math:`n^2/2` (orbits: no low-dimensional structure), 8.5 bytes each, measured with
    PARDISO for FC N ≤ 60, rings N ≤ 9 and 2D clusters N ≤ 10 (``benchmarks/exact.py``
    prints the estimate next to the measured peak). The orbit route also holds tables over
    all :math:`4^N` pairs. ``route="full"``: the dense :math:`4^N` Liouvillian of
    ``GapOptions(sector="full")``.

    Parameters
    ----------
    lattice : Lattice
    route : {"auto", "orbits", "permutation", "full"}
        As in :class:`SteadyStateOptions`.

    Returns
    -------
    MemoryEstimate
        ``.gb``, ``.unknowns``, ``.fits`` (against ``MemAvailable`` now).

    Examples
    --------
    >>> from ddlib import lattice
    >>> from ddlib.exact import memory_estimate
    >>> memory_estimate(lattice.fully_connected(10)).unknowns
    286
    >>> memory_estimate(lattice.chain(8)).unknowns
    4435
    """
    check_lattice(lattice)
    if route != "full":
        route = _route_name(lattice, route)
    N = lattice.N
    if route == "permutation":
        n = math.comb(N + 3, 3)
    elif route == "full":
        n = 4**N
    elif N > _MAX_ORBIT_N:
        n = 4**N // max(1, 2 * N)                     # not built: a ring's group as a guide
    else:
        n = _orbit_count(lattice)
    lu, need = _bytes(route, N, n)
    return MemoryEstimate(route=route, unknowns=int(n), lu_nonzeros=lu, bytes=need,
                          available=available_memory())


def _largest_fitting(route: str, N: int, n: int, available: float) -> int:
    """Largest N' of the same kind whose estimate fits (orbit route: n scaled as 4^N'/N')."""
    def need(M):
        if route == "permutation":
            return _bytes(route, M, math.comb(M + 3, 3))[1]
        if route == "orbits":
            return _bytes(route, M, n * 4.0 ** (M - N) * N / M)[1]
        return _bytes(route, M, 4**M)[1]
    M = 1
    while M < 100_000 and need(M + 1) <= available:
        M += 1
    if route == "orbits":
        M = min(M, _MAX_ORBIT_N)
    return M


def _check_resources(lattice: Lattice, route: str, what: str) -> MemoryEstimate:
    """Refuse (:class:`ResourceError`, naming ``lattice``) work that would not fit."""
    est = memory_estimate(lattice, route=route)
    if not est.fits:
        fit = _largest_fitting(est.route, lattice.N, est.unknowns, est.available)
        raise ResourceError(
            f"lattice: {what} on {lattice!r} ({est.route} route) needs about {est.gb:.3g} GB "
            f"({est.unknowns:,} unknowns, ~{est.lu_nonzeros:.2g} LU entries); "
            f"{est.available / 1e9:.3g} GB are available here. The largest N of this kind "
            f"that fits is about N = {fit}.")
    return est


@dataclass(frozen=True, kw_only=True)
class SteadyStateOptions:
    """Options of :func:`steady_state`.

    Attributes
    ----------
    route : {"auto", "orbits", "permutation"}
        ``"auto"``: permutation-symmetric for a fully connected lattice, orbits otherwise.
        ``"orbits"`` works for every lattice with N ≤ 12 (on a fully connected one it
        enumerates S_N, fine up to N ≈ 8 — a cross-check of the permutation route).
    residual_tol : float
        ``converged`` is True when :math:`\\|\\mathcal L\\rho\\|_F \\le` ``residual_tol``.
    linear_solver : {"auto", "superlu", "pardiso"}
        Sparse direct solver of the reduced system. ``"superlu"``: SciPy's SuperLU (COLAMD
        ordering). ``"pardiso"``: Intel MKL PARDISO through ``pypardiso`` (METIS nested
        dissection, far less fill-in: FC N = 50 in 2 s instead of 15 s, N = 100 in about a
        minute instead of many). ``"auto"``: PARDISO for systems of at least 2000 unknowns
        when ``pypardiso`` is installed, SuperLU otherwise.
    """

    route: str = "auto"
    residual_tol: float = 1e-8
    linear_solver: str = "auto"

    def __post_init__(self):
        if self.route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {self.route!r}")
        if self.linear_solver not in LINEAR_SOLVERS:
            raise ValueError(f"linear_solver must be one of {LINEAR_SOLVERS}, got "
                             f"{self.linear_solver!r}")
        if self.linear_solver == "pardiso" and not _has_pardiso():
            raise ValueError("linear_solver='pardiso' needs the pypardiso package")
        tol = _real("residual_tol", self.residual_tol)
        if tol <= 0:
            raise ValueError(f"residual_tol must be > 0, got {tol!r}")
        object.__setattr__(self, "residual_tol", tol)


# ----------------------------------------------------------------------------- bimodality

def _peaks(P: np.ndarray, rtol: float) -> np.ndarray:
    """Indices of the local maxima of P, largest first (plateaus merged, endpoints count)."""
    if P.size == 0 or P.max() <= 0:
        return np.zeros(0, dtype=np.int64)
    keep = np.r_[True, np.abs(np.diff(P)) > rtol * P.max()]
    where, Q = np.flatnonzero(keep), P[keep]
    left = np.r_[-np.inf, Q[:-1]]
    right = np.r_[Q[1:], -np.inf]
    peaks = np.flatnonzero((Q > left) & (Q > right))
    return where[peaks[np.argsort(Q[peaks], kind="stable")[::-1]]]


def _check_distribution(P) -> np.ndarray:
    P = np.asarray(P, dtype=float)
    if P.ndim != 1 or P.size == 0 or not np.all(np.isfinite(P)):
        raise ValueError("P must be a non-empty 1D array of finite numbers")
    return P


def bimodality_index(P, rtol: float = 1e-9) -> float:
    r"""Bimodality index :math:`b_x` of a distribution on a discrete grid (paper, after Eq. 3).

    .. math::

        b_x = \frac{2\,(P_{\max,2} - P_{\min})}{P_{\max,1} + P_{\max,2}},

    :math:`P_{\max,1} \ge P_{\max,2}` the two largest local maxima and :math:`P_{\min}` the
    minimum of P between them. On the grid, runs of equal values (within
    ``rtol * max(P)``, so round-off never creates a peak) are merged into one point first;
    then a point is a local maximum when it is larger than each neighbour it has — the
    endpoints m = ±1 count, compared with their single neighbour. A distribution with one
    local maximum (unimodal, or flat) has :math:`b_x = 0`; two equal peaks with
    :math:`P_{\min} = 0` between them give 1.

    Parameters
    ----------
    P : array_like, shape (N + 1,)
        Probabilities on the grid m = −1, −1 + 2/N, …, 1 (any non-negative weights).
    rtol : float
        Relative tolerance for equal neighbours.

    Returns
    -------
    float
        :math:`b_x \in [0, 1]`.
    """
    P = _check_distribution(P)
    rtol = _real("rtol", rtol)
    if not 0 <= rtol < 1:
        raise ValueError(f"rtol must be in [0, 1), got {rtol!r}")
    peaks = _peaks(P, rtol)
    if peaks.size < 2:
        return 0.0
    i, j = sorted(peaks[:2])
    p1, p2, pmin = P[peaks[0]], P[peaks[1]], P[i:j + 1].min()
    return float(max(0.0, 2 * (p2 - pmin) / (p1 + p2)))


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True, kw_only=True)
class SteadyState(SteadyResult):
    """Exact steady state of a small cluster, in its symmetry-reduced form.

    Attributes
    ----------
    model : Model
    lattice : Lattice
    route : str
        ``"orbits"`` or ``"permutation"``.
    coefficients : ndarray of complex, shape (n_unknowns,)
        The reduced representation: for ``"orbits"`` the value of :math:`\\rho_{ab}` on each
        orbit of pairs (orbit ``k`` has representative pair ``representatives[k]``); for
        ``"permutation"`` the components of ρ on the orthonormal symmetric basis
        :math:`|n\\rangle` (occupations ``representatives[k]`` = (n₀, n₁, n₂, n₃)).
    representatives : ndarray of int, shape (n_unknowns, 2) or (n_unknowns, 4)
        Representative pair (a, b) of each orbit, or the occupations of each symmetric
        basis operator.
    mu : ndarray, shape (3,)
        Site-averaged magnetisation :math:`(\\mu_x, \\mu_y, \\mu_z)`, μ_a = ⟨M_a⟩; NaN when
        not ``converged``.
    px : ndarray, shape (N + 1,)
        :math:`P(M_x = m)` on m = −1, −1 + 2/N, …, 1 (see :meth:`mx_distribution`); NaN when
        not ``converged``.
    residual : float
        :math:`\\|\\mathcal L\\rho\\|_F` of the computed ρ (Frobenius norm over the full
        space, units of Γ).
    converged : bool
        Finite solution with ``residual <= options.residual_tol``. When False, every
        observable (``mu``, ``px``, :meth:`mx_distribution`, :attr:`bimodality`,
        :meth:`peaks`, :meth:`rho`) is NaN and ``message`` says why; ``coefficients`` keep
        what the linear solver returned, for inspection.
    message : str
        ``"solved (<linear solver>)"``, with the failed routes when a retry was needed, or
        the reason it did not converge.
    """

    route: str
    coefficients: np.ndarray = field(repr=False)
    representatives: np.ndarray = field(repr=False)
    mu: np.ndarray
    px: np.ndarray = field(repr=False)
    residual: float

    @property
    def N(self) -> int:
        """Number of sites."""
        return self.lattice.N

    @property
    def n_unknowns(self) -> int:
        """Size of the reduced linear system."""
        return self.coefficients.size

    def mx_distribution(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Distribution of the x magnetisation per site :math:`M_x = \frac1N\sum_R\sigma^x_R`.

        Returns
        -------
        m : ndarray, shape (N + 1,)
            −1, −1 + 2/N, …, 1.
        P : ndarray, shape (N + 1,)
            :math:`P(M_x = m)`, summing to 1 (NaN when not ``converged``).
        """
        return np.linspace(-1.0, 1.0, self.N + 1), self.px.copy()

    @property
    def bimodality(self) -> float:
        """Bimodality index :math:`b_x` of :math:`P(M_x = m)` (:func:`bimodality_index`);
        NaN when not ``converged``."""
        if not self.converged:
            return math.nan
        return bimodality_index(self.px)

    def peaks(self) -> np.ndarray:
        """Positions m of the two largest local maxima of :math:`P(M_x = m)`.

        Returns
        -------
        ndarray, shape (2,)
            (m at the highest peak, m at the second); the second is NaN for a unimodal P,
            both when not ``converged``. Maxima as in :func:`bimodality_index`.
        """
        m = np.linspace(-1.0, 1.0, self.N + 1)
        out = np.full(2, np.nan)
        if not self.converged:
            return out
        top = _peaks(self.px, 1e-9)[:2]
        out[:top.size] = m[top]
        return out

    def rho(self) -> np.ndarray:
        """The full density matrix, shape (2^N, 2^N), QuTiP's ordering (N ≤ 12); NaN when
        not ``converged``.

        Raises
        ------
        ValueError
            For N > 12 (use the reduced ``coefficients``).
        """
        if self.N > _MAX_ORBIT_N:
            raise ValueError(f"N={self.N}: the full density matrix (2^N x 2^N) is only built "
                             f"for N <= {_MAX_ORBIT_N}; use .coefficients")
        if not self.converged:
            return np.full((2**self.N, 2**self.N), np.nan, dtype=complex)
        if self.route == "orbits":
            orbit_of, _, _ = _orbits(self.lattice)
            return self.coefficients[orbit_of].reshape(2**self.N, 2**self.N)
        return _permutation_rho(self.N, self.coefficients, self.representatives)

    def summary(self) -> SteadySummary:
        """The portable summary of this state (:mod:`ddlib.results`), a warm start for the
        other solvers (``solver="exact"``, ``stable=None``, ``kappa`` NaN: the gap is
        :func:`liouvillian_gap`'s).

        Raises
        ------
        ValueError
            For an unconverged state (its μ is unknown); the message carries the reason.
        """
        if not self.converged:
            raise ValueError(f"an unconverged exact state has no summary (its mu is NaN): "
                             f"{self.message}")
        return SteadySummary(model=self.model, mu=tuple(map(float, self.mu)), converged=True,
                             message=self.message, stable=None, kappa=math.nan,
                             solver="exact", lattice=self.lattice.key())


# ----------------------------------------------------------------------------- orbit route

def _site_tables(lattice: Lattice) -> np.ndarray:
    """Permuted basis states: ``table[g, a]`` is ``a`` with site i's spin moved to g[i]."""
    N = lattice.N
    G = lattice.automorphisms()
    a = np.arange(2**N, dtype=np.int64)
    bits = (a[:, None] >> (N - 1 - np.arange(N))) & 1          # (2^N, N), 1 = ↓
    return np.stack([(bits << (N - 1 - g)[None, :]).sum(1) for g in G])


@njit
def _orbit_kernel(table):
    n_g, dim = table.shape
    orbit_of = -np.ones(dim * dim, dtype=np.int32)
    reps = np.empty(dim * dim, dtype=np.int64)
    sizes = np.zeros(dim * dim, dtype=np.int64)
    k = 0
    for p in range(dim * dim):
        if orbit_of[p] >= 0:
            continue
        a, b = p // dim, p % dim
        reps[k] = p
        for g in range(n_g):
            q = table[g, a] * dim + table[g, b]
            if orbit_of[q] < 0:
                orbit_of[q] = k
                sizes[k] += 1
        k += 1
    return orbit_of, reps[:k], sizes[:k]


def _orbits(lattice: Lattice):
    """(orbit index of every pair p = a·2^N + b, representative pairs, orbit sizes)."""
    return _orbit_kernel(_site_tables(lattice))


@njit
def _orbit_rows(orbit_of, reps, N, bonds, hz, hx, cxx, cyy, czz, Gamma):
    """COO entries of (𝓛ρ) at each orbit's representative, in the orbit unknowns.

    On-site H = hz σᶻ + hx σˣ, bond H = cxx σˣσˣ + cyy σʸσʸ + czz σᶻσᶻ (the coefficients of
    ``ddlib.model.onsite_terms``/``bond_terms``); σˣσˣ and σʸσʸ flip both spins with
    amplitude cxx ± cyy (+ on an antiparallel pair), σᶻσᶻ is diagonal."""
    dim = 1 << N
    n_orb = reps.size
    per_row = 1 + 3 * N + 2 * bonds.shape[0]
    rows = np.empty(n_orb * per_row, dtype=np.int64)
    cols = np.empty(n_orb * per_row, dtype=np.int64)
    vals = np.empty(n_orb * per_row, dtype=np.complex128)
    e = 0
    for k in range(n_orb):
        a, b = reps[k] // dim, reps[k] % dim
        energy = 0.0
        decay = 0.0
        for i in range(N):
            bit = 1 << (N - 1 - i)
            sa = 1.0 - 2.0 * ((a & bit) != 0)
            sb = 1.0 - 2.0 * ((b & bit) != 0)
            energy += hz * (sa - sb)
            decay += 0.25 * Gamma * ((sa + 1.0) + (sb + 1.0))      # ½Γ(n↑(a) + n↑(b))
            # -iΩ[σx, ρ]: (σxρ)_ab = ρ_{a⊕i, b}, (ρσx)_ab = ρ_{a, b⊕i}
            rows[e], cols[e], vals[e] = k, orbit_of[(a ^ bit) * dim + b], -1j * hx
            e += 1
            rows[e], cols[e], vals[e] = k, orbit_of[a * dim + (b ^ bit)], 1j * hx
            e += 1
            if sa < 0 and sb < 0:                                    # Γ σ⁻ρσ⁺
                rows[e], cols[e], vals[e] = k, orbit_of[(a ^ bit) * dim + (b ^ bit)], Gamma
                e += 1
        for nb in range(bonds.shape[0]):
            bi = 1 << (N - 1 - bonds[nb, 0])
            bj = 1 << (N - 1 - bonds[nb, 1])
            fa = ((a & bi) != 0) != ((a & bj) != 0)                   # antiparallel in a
            fb = ((b & bi) != 0) != ((b & bj) != 0)
            energy += czz * ((1.0 - 2.0 * fa) - (1.0 - 2.0 * fb))     # σᶻσᶻ diagonal
            flip_a = cxx + cyy if fa else cxx - cyy                  # ⟨a'|σˣσˣ, σʸσʸ|a⟩
            flip_b = cxx + cyy if fb else cxx - cyy
            if flip_a != 0.0:                                        # -i (Hρ)_ab
                rows[e], cols[e] = k, orbit_of[(a ^ bi ^ bj) * dim + b]
                vals[e] = -1j * flip_a
                e += 1
            if flip_b != 0.0:                                        # +i (ρH)_ab
                rows[e], cols[e] = k, orbit_of[a * dim + (b ^ bi ^ bj)]
                vals[e] = 1j * flip_b
                e += 1
        rows[e], cols[e], vals[e] = k, k, -1j * energy - decay
        e += 1
    return rows[:e], cols[:e], vals[:e]


def _orbit_system(model: Model, lattice: Lattice):
    orbit_of, reps, sizes = _orbits(lattice)
    h, c = onsite_terms(model), bond_terms(model)
    rows, cols, vals = _orbit_rows(orbit_of, reps, lattice.N, lattice.bonds.astype(np.int64),
                                   h.get("z", 0.0), h.get("x", 0.0), c.get(("x", "x"), 0.0),
                                   c.get(("y", "y"), 0.0), c.get(("z", "z"), 0.0),
                                   jump_rate(model))
    n = reps.size
    L = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    dim = 2**lattice.N
    diag = reps // dim == reps % dim
    trace = np.where(diag, sizes, 0).astype(complex)               # tr ρ = Σ size_k x_k
    anchor = int(orbit_of[dim * dim - 1])                           # the all-down pair
    pairs = np.stack([reps // dim, reps % dim], axis=1)
    partner = orbit_of[pairs[:, 1] * dim + pairs[:, 0]].astype(np.int64)   # orbit of (b, a)
    return L, trace, anchor, sizes.astype(float), partner, pairs, orbit_of


def _full_observables(rho: np.ndarray, N: int) -> tuple[np.ndarray, np.ndarray]:
    """(μ, P(M_x = m)) from a full density matrix of N spins."""
    dim = 2**N
    a = np.arange(dim)
    mu = np.zeros(3)
    for i in range(N):
        bit = 1 << (N - 1 - i)
        flipped = rho[a, a ^ bit]                                   # ⟨a|ρ|a⊕i⟩
        up = (a & bit) == 0
        mu[0] += flipped.sum().real
        mu[1] += np.sum(np.where(up, 1j, -1j) * flipped).real      # tr(ρσʸ)
        mu[2] += np.sum(np.where(up, 1.0, -1.0) * rho[a, a].real)
    U = np.array([[1, 1], [1, -1]]) / math.sqrt(2)                   # rows ⟨+x|, ⟨−x|
    t = rho.reshape((2,) * (2 * N))
    for i in range(N):
        t = np.moveaxis(np.tensordot(U, t, axes=(1, i)), 0, i)
        t = np.moveaxis(np.tensordot(t, U.T, axes=(N + i, 0)), -1, N + i)
    pdiag = np.real(t.reshape(dim, dim).diagonal())
    n_minus = np.array([bin(x).count("1") for x in range(dim)])      # bit 1 = −x here
    px = np.bincount(N - n_minus, weights=pdiag, minlength=N + 1)   # index = #(+x)
    return mu / N, px


# ----------------------------------------------------------------------------- FC route

def _compositions(N: int) -> np.ndarray:
    """All (n₀, n₁, n₂, n₃) with sum N, shape (C(N+3, 3), 4); the all-down (0,0,0,N) first."""
    out = [(n0, n1, n2, N - n0 - n1 - n2) for n0 in range(N + 1) for n1 in range(N + 1 - n0)
           for n2 in range(N + 1 - n0 - n1)]
    return np.array(out, dtype=np.int64)


def _index_table(occ: np.ndarray, N: int) -> np.ndarray:
    idx = -np.ones((N + 1, N + 1, N + 1), dtype=np.int64)
    idx[occ[:, 0], occ[:, 1], occ[:, 2]] = np.arange(len(occ))
    return idx


def _superop(f, sites: int = 1) -> np.ndarray:
    """Matrix of a superoperator on the operator basis E_α (one site) or E_α⊗E_β (two)."""
    basis = _E if sites == 1 else [np.kron(x, y) for x in _E for y in _E]
    return np.array([[np.vdot(out, f(inp)).item() for inp in basis] for out in basis])


def _local_superops(model: Model):
    h, hb = onsite_matrix(model), bond_matrix(model)
    sm, sp_ = SIGMA_MINUS, SIGMA_MINUS.conj().T
    g = jump_rate(model)

    def one(x):
        return (-1j * (h @ x - x @ h) + g * (sm @ x @ sp_)
                - 0.5 * g * (sp_ @ sm @ x + x @ sp_ @ sm))

    def two(x):
        return -1j * (hb @ x - x @ hb)

    return _superop(one), _superop(two, sites=2)


@njit
def _boson_rows(occ, idx, l1, terms2, vals2):
    """COO entries of Σ ℓ_αβ a†_α a_β + ½ Σ ℓ²_{αβ,γδ} a†_α a†_β a_γ a_δ on |n⟩."""
    n = occ.shape[0]
    per_row = 16 + terms2.shape[0]
    rows = np.empty(n * per_row, dtype=np.int64)
    cols = np.empty(n * per_row, dtype=np.int64)
    vals = np.empty(n * per_row, dtype=np.complex128)
    e = 0
    m = np.empty(4, dtype=np.int64)
    for r in range(n):
        for al in range(4):
            for be in range(4):
                c = l1[al, be]
                if c == 0:
                    continue
                # ⟨m| a†_α a_β |n⟩, n = m - e_α + e_β
                for q in range(4):
                    m[q] = occ[r, q]
                if m[al] == 0:
                    continue
                amp = math.sqrt(m[al])
                m[al] -= 1
                m[be] += 1
                amp *= math.sqrt(m[be])
                rows[e], cols[e], vals[e] = r, idx[m[0], m[1], m[2]], c * amp
                e += 1
        for t in range(terms2.shape[0]):
            al, be, ga, de = terms2[t, 0], terms2[t, 1], terms2[t, 2], terms2[t, 3]
            for q in range(4):
                m[q] = occ[r, q]
            # walk ⟨m| a†_α a†_β back to the column state, then a_γ a_δ
            amp = 1.0
            if m[al] == 0:
                continue
            amp *= math.sqrt(m[al])
            m[al] -= 1
            if m[be] == 0:
                continue
            amp *= math.sqrt(m[be])
            m[be] -= 1
            m[ga] += 1
            amp *= math.sqrt(m[ga])
            m[de] += 1
            amp *= math.sqrt(m[de])
            rows[e], cols[e], vals[e] = r, idx[m[0], m[1], m[2]], 0.5 * vals2[t] * amp
            e += 1
    return rows[:e], cols[:e], vals[:e]


def _boson_matrix(N: int, l1: np.ndarray, l2: np.ndarray, occ=None, idx=None):
    occ = _compositions(N) if occ is None else occ
    idx = _index_table(occ, N) if idx is None else idx
    l2 = l2.reshape(4, 4, 4, 4)
    terms = np.argwhere(np.abs(l2) > 0).astype(np.int64)
    rows, cols, vals = _boson_rows(occ, idx, l1.astype(complex), terms,
                                   l2[tuple(terms.T)].astype(complex))
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(occ), len(occ)))


def _permutation_system(model: Model, N: int):
    occ = _compositions(N)
    idx = _index_table(occ, N)
    l1, l2 = _local_superops(model)
    L = _boson_matrix(N, l1, l2, occ, idx)
    diag = (occ[:, 1] == 0) & (occ[:, 2] == 0)
    # tr S_n = M(n) for diagonal classes; ρ = Σ y_n S_n/√M(n) → tr ρ = Σ √C(N, n₀) y_n
    trace = np.where(diag, np.sqrt(_binom(N, occ[:, 0])), 0.0).astype(complex)
    partner = idx[occ[:, 0], occ[:, 2], occ[:, 1]]                   # E_1 ↔ E_2: the adjoint
    return L, trace, 0, np.ones(len(occ)), partner, occ, idx


def _binom(N: int, k) -> np.ndarray:
    from scipy.special import comb

    return comb(N, k, exact=False)


def _permutation_observables(N: int, y: np.ndarray, occ: np.ndarray, idx: np.ndarray):
    """(μ, P(M_x = m)) from the symmetric-basis components y."""
    diag = (occ[:, 1] == 0) & (occ[:, 2] == 0)
    k = occ[diag, 0]
    pz = np.sqrt(_binom(N, k)) * y[diag].real
    mu_z = np.sum((2 * k / N - 1) * pz)
    # ⟨Σσ⁻⟩ = Σ_k c_{(k,1,0,N-1-k)} M = Σ_k y √M,  M = N·C(N-1, k)
    one = (occ[:, 1] == 1) & (occ[:, 2] == 0)
    sm = np.sum(np.sqrt(N * _binom(N - 1, occ[one, 0])) * y[one]) / N
    # rotate every spin to the x basis: exp(θ Σ_i ℓ_rot) with θ = π/2, ℓ_rot = -i[σʸ/2, ·]
    rot = _superop(lambda x: -0.5j * (_SY @ x - x @ _SY))
    generator = _boson_matrix(N, rot, np.zeros((16, 16)), occ, idx)
    yx = spla.expm_multiply(generator * (-np.pi / 2), y.astype(complex))
    px = np.sqrt(_binom(N, k)) * yx[diag].real                      # index = #(+x) = n₀
    return np.array([2 * sm.real, -2 * sm.imag, mu_z]), px


def _permutation_rho(N: int, y: np.ndarray, occ: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    a = np.arange(2**N, dtype=np.uint64)[:, None]
    b = a.T
    full = np.uint64(2**N - 1)
    # occupations of E_0 = ↑↑, E_1 = ↑↓ (ket ↑, bra ↓), E_2 = ↓↑ in each entry ρ_ab (bit 1 = ↓)
    counts = [np.bitwise_count(x).astype(np.int64) for x in
              (~a & ~b & full, ~a & b & full, a & ~b & full)]
    n3 = N - counts[0] - counts[1] - counts[2]
    logM = gammaln(N + 1) - sum(gammaln(c + 1) for c in (*counts, n3))
    comp = _index_table(occ, N)[counts[0], counts[1], counts[2]]
    return y[comp] / np.exp(0.5 * logM)


# ----------------------------------------------------------------------------- solver

def _has_pardiso() -> bool:
    try:
        import pypardiso  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _relative_residual(A, z: np.ndarray, rhs: np.ndarray) -> float:
    """Relative residual ‖b − Az‖ / ‖b‖; ``inf`` for a non-finite z."""
    if not np.all(np.isfinite(z)):
        return np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        r = float(np.linalg.norm(rhs - A @ z) / np.linalg.norm(rhs))
    return r if np.isfinite(r) else np.inf


def _refined(solve, A, rhs: np.ndarray) -> tuple[np.ndarray, float]:
    """``solve(rhs)`` plus at most ``_REFINE_STEPS`` steps of iterative refinement with the same
    factors; stops at full accuracy or as soon as a step does not reduce the residual (a step
    with bad factors amplifies the error instead of removing it)."""
    z = solve(rhs)
    res = _relative_residual(A, z, rhs)
    for _ in range(_REFINE_STEPS):
        if res <= 1e-14 or not np.isfinite(res):
            break
        z_new = z + solve(rhs - A @ z)
        res_new = _relative_residual(A, z_new, rhs)
        if not res_new < res:
            break
        z, res = z_new, res_new
    return z, res


def _superlu(A, rhs: np.ndarray) -> tuple[np.ndarray, float, str]:
    lu = spla.splu(A.tocsc())
    z, res = _refined(lu.solve, A, rhs)
    return z, res, ""


def _pardiso(A, rhs: np.ndarray) -> tuple[np.ndarray, float, str]:
    from pypardiso import PyPardisoSolver

    solver = PyPardisoSolver()
    A = A.tocsr()
    A.sort_indices()
    try:
        # PARDISO perturbs tiny pivots; refinement with the same factors (pypardiso reuses
        # them for an unchanged matrix) restores full accuracy when the perturbation is small
        with np.errstate(over="ignore", invalid="ignore"):
            z, res = _refined(lambda b: solver.solve(A, b), A, rhs)
        return z, res, f"{int(solver.iparm[13])} perturbed pivots"
    finally:
        solver.free_memory(everything=True)


def _sparse_solve(A, rhs: np.ndarray, linear_solver: str) -> tuple[np.ndarray, str]:
    """Solve the real sparse system A z = rhs; returns (z, how it was solved).

    The first route (PARDISO for ``"auto"`` on large systems when installed) is checked by
    its residual; a solve that failed — non-finite, or a relative residual above
    ``_RETRY_RESIDUAL`` after refinement — is retried by the other sparse LU before the
    caller calls the result unconverged. Measured: on the ring N = 8, Ω = 0.5, JZ = 6–8
    PARDISO perturbs ~30 pivots and returns residuals of 1e20 to inf (refinement diverges),
    where SuperLU (COLAMD) solves the same 4435 unknowns to 1e-15. Raises RuntimeError when
    every route hits an exactly singular matrix.
    """
    if linear_solver == "auto":
        big = A.shape[0] >= _PARDISO_MIN
        linear_solver = "pardiso" if big and _has_pardiso() else "superlu"
    routes = [linear_solver]
    other = "superlu" if linear_solver == "pardiso" else "pardiso"
    if other == "superlu" or _has_pardiso():
        routes.append(other)
    failures, best = [], None
    for name in routes:
        try:
            z, res, note = (_pardiso if name == "pardiso" else _superlu)(A, rhs)
        except RuntimeError as err:                  # SuperLU: exactly singular
            failures.append(f"{name}: {err}")
            continue
        if best is None or res < best[1]:
            best = (z, res, name)
        if res <= _RETRY_RESIDUAL:
            how = name if not failures else f"{name}, after {'; '.join(failures)}"
            return z, how
        failures.append(f"{name} failed: residual {res:.1e}" + (f", {note}" if note else ""))
    if best is None:
        raise RuntimeError("; ".join(failures))
    return best[0], f"{best[2]}, best of: {'; '.join(failures)}"


def _solve_hermitian(L, trace, anchor: int, partner: np.ndarray,
                     linear_solver: str = "auto") -> tuple[np.ndarray, str]:
    r"""Solve :math:`\mathcal L x = 0`, trace·x = 1 for a Hermitian ρ, as a *real* system.

    ρ = ρ† pairs each unknown k with ``partner[k]`` (the orbit of (b, a), or E₁ ↔ E₂) and
    :math:`x_{k'} = \bar x_k`. With z real — :math:`z_k = \mathrm{Re}\,x_k` and
    :math:`z_{k'} = \mathrm{Im}\,x_k` for k < k' (z_k = x_k when k' = k) — x = T z, and since
    :math:`\mathcal L\rho` is Hermitian too the real and imaginary parts of the rows k < k'
    (the real part of a self-adjoint row) are n independent real equations: a real sparse LU
    of the same size, 4× cheaper than the complex one. The anchor row (self-adjoint, the
    all-down pair) is replaced by the trace condition. Returns (x, linear solver used).
    """
    n = L.shape[0]
    k = np.arange(n)
    first = k <= partner                                           # keeps row k of each pair
    pair = k != partner
    lo, hi = np.minimum(k, partner), np.maximum(k, partner)
    # column of z that carries Re x_k (lo) and Im x_k (hi, sign − on the k > k' member)
    T = sp.csr_matrix((np.r_[np.ones(n), np.where(k < partner, 1j, -1j)[pair]],
                       (np.r_[k, k[pair]], np.r_[lo, hi[pair]])), shape=(n, n))
    C = (L @ T).tocsr()
    keep = first.astype(float)
    keep[anchor] = 0.0
    moved = pair & first
    to_partner = sp.csr_matrix((np.ones(moved.sum()), (partner[moved], k[moved])), shape=(n, n))
    A = (sp.diags(keep) @ C.real + to_partner @ C.imag
         + sp.csr_matrix((trace.real, (np.full(n, anchor), k)), shape=(n, n)))
    rhs = np.zeros(n)
    rhs[anchor] = 1.0
    z, used = _sparse_solve(A, rhs, linear_solver)
    return T @ z, used


def steady_state(model: Model, lattice: Lattice, *,
                 options: SteadyStateOptions | None = None) -> SteadyState:
    r"""Exact steady state :math:`\mathcal L\rho_S = 0`, :math:`\mathrm{tr}\rho_S = 1` of
    Eqs. (1)–(3) (or B1) on a small lattice, in the lattice-symmetric subspace.

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Any lattice with N ≤ 12 (orbit route), or ``fully_connected(N)`` (permutation route:
        milliseconds up to N ≈ 20, seconds at N = 50, about a minute at N = 100 with PARDISO).
    options : SteadyStateOptions, optional

    Returns
    -------
    SteadyState
        ``.mu``, ``.mx_distribution()``, ``.bimodality``, ``.rho()``, ``.residual``,
        ``.converged``, ``.message``.

    Raises
    ------
    ValueError
        For a non-``Model``/``Lattice`` argument, bad options, or a route that does not fit
        the lattice.
    ResourceError
        (a ``ValueError``) When the estimate of :func:`memory_estimate` exceeds the memory
        available: refused at once, with the estimate and the largest N that fits.

    Examples
    --------
    >>> from ddlib import Model, lattice
    >>> from ddlib.exact import steady_state
    >>> s = steady_state(Model(Delta=1.5, Omega=0.5, J=6 / 9), lattice.fully_connected(10))
    >>> s.converged, s.n_unknowns
    (True, 286)
    >>> m, P = s.mx_distribution()
    >>> bool(np.isclose(P.sum(), 1.0)), bool(np.isclose(m @ P, s.mu[0]))
    (True, True)

    At J = 0 the spins are independent: μ is the single-spin Bloch vector.

    >>> from ddlib.model import single_spin_steady_state
    >>> free = Model(Delta=0.8, Omega=0.7, J=0.0)
    >>> bool(np.allclose(steady_state(free, lattice.chain(6)).mu,
    ...                  single_spin_steady_state(free)))
    True

    A coupled pair against QuTiP's steady state of the full 16 × 16 Liouvillian (no symmetry
    used there):

    >>> import qutip
    >>> from ddlib.model import liouvillian
    >>> pair, model = lattice.fully_connected(2), Model(Delta=1.0, Omega=0.5, J=1.0)
    >>> rho = qutip.steadystate(liouvillian(model, pair))
    >>> sx0 = qutip.tensor(qutip.sigmax(), qutip.qeye(2))
    >>> bool(np.isclose(steady_state(model, pair).mu[0], qutip.expect(sx0, rho)))
    True
    """
    _check(model, lattice)
    options = check_options(options, SteadyStateOptions)
    route = _route(lattice, options.route)
    _check_resources(lattice, route, "exact.steady_state")
    N = lattice.N
    if route == "orbits":
        L, trace, anchor, weights, partner, reps, orbit_of = _orbit_system(model, lattice)
    else:
        L, trace, anchor, weights, partner, reps, idx = _permutation_system(model, N)
    try:
        x, used = _solve_hermitian(L, trace, anchor, partner, options.linear_solver)
        message = f"solved ({used})"
    except RuntimeError as err:  # exactly singular: the steady state is not unique
        x = np.full(L.shape[0], np.nan, dtype=complex)
        message = f"sparse LU failed ({err}); the steady state may not be unique"
    with np.errstate(over="ignore", invalid="ignore"):
        residual = float(np.sqrt(np.sum(weights * np.abs(L @ x) ** 2)))
    if not np.isfinite(residual):
        residual = np.inf
    converged = bool(residual <= options.residual_tol)
    if converged and route == "orbits":
        mu, px = _full_observables(x[orbit_of].reshape(2**N, 2**N), N)
    elif converged:
        mu, px = _permutation_observables(N, x, reps, idx)
    else:                       # observables of an unconverged state are unknown, not garbage
        mu, px = np.full(3, np.nan), np.full(N + 1, np.nan)
        if message.startswith("solved"):
            message = (f"residual |L rho| = {residual:.2e} exceeds residual_tol = "
                       f"{options.residual_tol:.0e} ({message})")
    return SteadyState(model=model, lattice=lattice, route=route, coefficients=x,
                       representatives=reps, mu=mu, px=px, residual=residual,
                       converged=converged, message=message)


# ----------------------------------------------------------------------------- gap

@dataclass(frozen=True, kw_only=True)
class GapOptions:
    """Options of :func:`liouvillian_gap`.

    Attributes
    ----------
    sector : {"symmetric", "full"}
        ``"symmetric"``: the lattice-symmetric sector (orbit or permutation space, any size
        the steady-state solver handles). ``"full"``: every eigenvalue of the full
        :math:`4^N` Liouvillian (dense, N ≤ 6).
    n_eigs : int
        Eigenvalues of largest real part computed by Arnoldi (ARPACK, ``which="LR"``) when the
        reduced space has more than ``dense_max`` unknowns. (Shift-invert around 0 is not
        used: it finds the eigenvalues of smallest modulus and misses a slow mode with a
        large imaginary part.)
    dense_max : int
        Up to this size the reduced matrix is diagonalised densely (all eigenvalues).
    tol : float
        Relative accuracy of the Arnoldi eigenvalues.
    """

    sector: str = "symmetric"
    n_eigs: int = 6
    dense_max: int = 600
    tol: float = 1e-10

    def __post_init__(self):
        if self.sector not in SECTORS:
            raise ValueError(f"sector must be one of {SECTORS}, got {self.sector!r}")
        for name in ("n_eigs", "dense_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {v!r}")
        tol = _real("tol", self.tol)
        if tol <= 0:
            raise ValueError(f"tol must be > 0, got {tol!r}")
        object.__setattr__(self, "tol", tol)


@dataclass(frozen=True, kw_only=True)
class LiouvillianGap(SteadyResult):
    """The slowest decay rate of the Liouvillian (``float(result)`` is the gap).

    Attributes
    ----------
    gap : float
        :math:`\\min -\\mathrm{Re}\\,\\lambda` over the eigenvalues λ ≠ 0 found [Γ].
    eigenvalues : ndarray of complex, shape (k,)
        The eigenvalues found, the steady state's (≈ 0) removed, sorted by −Re λ.
    sector : str
        ``"symmetric"`` or ``"full"``.
    dense : bool
        All eigenvalues of the sector were computed (else the ``n_eigs`` of largest real
        part).
    converged : bool
    message : str
    model : Model
    lattice : Lattice
    """

    gap: float
    eigenvalues: np.ndarray = field(repr=False)
    sector: str
    dense: bool

    def __float__(self) -> float:
        return float(self.gap)


def liouvillian_gap(model: Model, lattice: Lattice, *,
                    options: GapOptions | None = None) -> LiouvillianGap:
    r"""Liouvillian gap: the slowest decay rate :math:`\min_{\lambda\ne0}(-\mathrm{Re}\,\lambda)`.

    The eigenmodes of :math:`\mathcal L` split into sectors (irreducible representations of
    the lattice's automorphism group G); the steady state lives in the symmetric one, which
    is the space this module solves in. By default the gap is that of the **symmetric
    sector**, i.e. of the modes that a G-invariant perturbation (a uniform change of Δ, Ω,
    an initial product state) excites. ``GapOptions(sector="full")`` diagonalises the whole
    :math:`4^N` Liouvillian (N ≤ 6). Checked against the full spectrum at N = 5
    (``tests/test_exact.py``; FC, ring, Ω = 0.5, JZ = 4–6): the symmetric gap is never below
    the full one; across and above the MF bistable window (Δ ≳ 1.5) the two coincide — the
    slow mode is the symmetric switching mode — while at small Δ a non-symmetric mode (a
    spin wave) is slower (FC, JZ = 6, Δ = 0.5: 0.54 full, 0.61 symmetric).

    Parameters
    ----------
    model : Model
    lattice : Lattice
    options : GapOptions, optional

    Returns
    -------
    LiouvillianGap
        ``float(result)`` is the gap [Γ].

    Raises
    ------
    ValueError
        For bad arguments, or ``sector="full"`` with N > 6.
    ResourceError
        (a ``ValueError``) For a lattice whose reduced system would not fit in memory.

    Examples
    --------
    Independent spins (J = 0) relax at the single-spin rates: the gap is the slowest decay
    rate of the Bloch equations, −max Re λ of their (linear) Jacobian.

    >>> from ddlib import Model, lattice, meanfield
    >>> from ddlib.model import single_spin_steady_state
    >>> free = Model(Delta=1.0, Omega=0.5, J=0.0)
    >>> bloch = meanfield.jacobian(single_spin_steady_state(free), free, 2)
    >>> gap = liouvillian_gap(free, lattice.chain(4))
    >>> gap.converged, bool(np.isclose(gap.gap, -np.linalg.eigvals(bloch).real.max()))
    (True, True)
    """
    _check(model, lattice)
    options = check_options(options, GapOptions)
    if options.sector == "full":
        if lattice.N > _MAX_FULL_N:
            raise ValueError(f"sector='full' diagonalises the 4^N Liouvillian; lattice has "
                             f"N={lattice.N} > {_MAX_FULL_N}")
        _check_resources(lattice, "full", "exact.liouvillian_gap")
    else:
        _check_resources(lattice, _route(lattice, "auto"), "exact.liouvillian_gap")
    if options.sector == "full":
        from .model import liouvillian

        L = liouvillian(model, lattice).full()
    elif _route(lattice, "auto") == "orbits":
        L = _orbit_system(model, lattice)[0]
    else:
        L = _permutation_system(model, lattice.N)[0]
    n = L.shape[0]
    dense = n <= options.dense_max or options.sector == "full"
    message = "all eigenvalues of the sector"
    if dense:
        lam = np.linalg.eigvals(L.toarray() if sp.issparse(L) else L)
    else:
        k = min(options.n_eigs, n - 2)
        message = f"the {k} eigenvalues of largest real part (Arnoldi)"
        try:
            lam = spla.eigs(L.tocsr(), k=k, which="LR", tol=options.tol,
                            ncv=min(n - 1, max(2 * k + 1, 60)), maxiter=100 * n,
                            return_eigenvectors=False)
        except spla.ArpackNoConvergence as err:
            lam = err.eigenvalues
            message = f"Arnoldi did not converge ({len(lam)} of {k} eigenvalues)"
    if lam.size < 2:
        return LiouvillianGap(gap=np.nan, eigenvalues=lam, sector=options.sector,
                              dense=dense, converged=False, message=message, model=model,
                              lattice=lattice)
    lam = np.delete(lam, np.argmin(np.abs(lam)))                   # the steady state
    lam = lam[np.argsort(-lam.real)]
    gap = float(-lam[0].real)
    converged = bool(np.isfinite(gap) and gap > 0 and not message.startswith("Arnoldi did"))
    if not converged:
        message = f"no decaying mode found ({message}); gap = {gap!r}"
    return LiouvillianGap(gap=gap, eigenvalues=lam, sector=options.sector, dense=dense,
                          converged=converged, message=message, model=model, lattice=lattice)


# ----------------------------------------------------------------------------- scans

def _axis(name: str, values) -> np.ndarray:
    try:
        v = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a 1D array of numbers, got "
                         f"{values!r}") from None
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a non-empty 1D array of finite numbers, got "
                         f"{values!r}")
    return v


def _check_scan(lattice, Delta, JZ, Omega, coupling, progress, what: str) -> dict:
    """Validate a scan's arguments and resources before any point is solved."""
    check_lattice(lattice)
    axes = {"Delta": _axis("Delta", Delta), "JZ": _axis("JZ", JZ)}
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    check_model(Model(Delta=0.0, Omega=Omega, J=0.0, coupling=coupling))
    _check_resources(lattice, _route(lattice, "auto"), what)
    return axes


def scan(lattice: Lattice, Delta, JZ, *, Omega: float = 0.5, coupling: str = "xy",
         progress: bool = True):
    r"""Exact steady states over a (Δ, JZ) grid, each point cached (:func:`ddlib.sweep.grid`).

    The bond coupling is :math:`J = J\mathcal Z/\mathcal Z` with the lattice's
    :math:`\mathcal Z` (the paper's rescaling, so lattices compare at equal JZ).

    Parameters
    ----------
    lattice : Lattice
    Delta, JZ : float or array_like, shape (n,)
        Detunings Δ and couplings JZ [Γ].
    Omega : float
        Rabi frequency Ω [Γ].
    coupling : {"xy", "ising"}
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    xarray.Dataset
        Dimensions (Delta, JZ, m); variables ``bx`` (:math:`b_x`), ``mux``, ``muy``, ``muz``,
        ``px`` (:math:`P(M_x = m)`), ``peak1``/``peak2`` (m of the two largest maxima, NaN
        when absent), ``residual``, ``converged``, ``message``. A point that did not converge
        is a missing point: its observables are NaN and ``message`` says why.

    Raises
    ------
    ValueError
        For a bad argument (named), or a lattice too large for the memory available
        (:class:`ResourceError`), before any point is solved.
    """
    axes = _check_scan(lattice, Delta, JZ, Omega, coupling, progress, "exact.scan")
    from .sweep import grid

    def solve(Delta, JZ):
        return steady_state(Model(Delta=Delta, Omega=Omega, J=JZ / lattice.Z,
                                  coupling=coupling), lattice)

    def observables(s):
        p = s.peaks()
        return {"bx": s.bimodality, "mux": s.mu[0], "muy": s.mu[1], "muz": s.mu[2],
                "px": s.px, "peak1": p[0], "peak2": p[1], "residual": s.residual,
                "message": s.message}

    ds = grid(solve, axes, observables=observables, name="exact.scan",
              key={"lattice": lattice, "Omega": Omega, "coupling": coupling},
              dims={"px": ("m",)}, progress=progress)
    return ds.assign_coords(m=np.linspace(-1.0, 1.0, lattice.N + 1))


def gap_scan(lattice: Lattice, Delta, JZ, *, Omega: float = 0.5, coupling: str = "xy",
             progress: bool = True):
    r"""Liouvillian gap (symmetric sector, :func:`liouvillian_gap`) over a (Δ, JZ) grid.

    Parameters and caching as in :func:`scan`.

    Returns
    -------
    xarray.Dataset
        Dimensions (Delta, JZ); variables ``gap`` [Γ] (NaN where no decaying mode was found),
        ``converged`` and ``message``.

    Raises
    ------
    ValueError
        As :func:`scan`.
    """
    axes = _check_scan(lattice, Delta, JZ, Omega, coupling, progress, "exact.gap_scan")
    from .sweep import grid

    def solve(Delta, JZ):
        return liouvillian_gap(Model(Delta=Delta, Omega=Omega, J=JZ / lattice.Z,
                                     coupling=coupling), lattice)

    def observables(g):
        return {"gap": g.gap if g.converged else math.nan, "message": g.message}

    return grid(solve, axes, observables=observables,
                name="exact.gap_scan", progress=progress,
                key={"lattice": lattice, "Omega": Omega, "coupling": coupling})
