r"""App. D as printed and as derived: the MFQF equations in the paper's grouping.

* :func:`derived_equations` — the Pauli-string algebra of :mod:`ddlib.pauli` run with symbolic
  coefficients, giving the equations in the form of App. D (μ, ϑ(R), ϑ(1), the sum over the
  neighbours R' of R, δ_{|R|,1}, Z);
* :func:`printed_equations` transcribes the paper's App. D and :func:`misprints` lists where
  the two differ (D4's first sum; g_zz, g_xz, g_yz of D14);
* :func:`closure_error_scan` — the ε² test: closed (derived and printed) vs exact rates in
  states with pair correlations of order ε (:mod:`ddlib.reference`).

Book material (the chapter ``mfqf_derivation``); the solvers never import it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..lattice import Lattice
from ..model import Model
from ..pauli import (
    AXES,
    PauliSum,
    Poly,
    _adjoint,
    _bond_terms,
    _check_model_lattice,
    _real_array,
    _site_terms,
    closed_expectation,
    commutator,
)
from ..reference import (
    correlated_product_state,
    exact_rates,
    mfqf_rhs_reference,
    symmetric_pair_amplitudes,
)

__all__ = ["Equations", "derived_equations", "printed_equations", "Misprint", "misprints",
           "ClosureScan", "closure_error_scan"]


# --------------------------------------------------------------------------------------------
# Symbolic equations in the form of App. D
# --------------------------------------------------------------------------------------------

_PAIRS = ("xx", "yy", "zz", "xy", "xz", "yz")


def _pair(ab) -> str:
    """The component pair ab in the sorted form of the keys (``"zx"`` → ``"xz"``)."""
    key = "".join(sorted(ab)) if isinstance(ab, str) else None
    if key not in _PAIRS:
        raise ValueError(f"ab must be a pair of axes such as 'xz', got {ab!r}")
    return key


def _mu(a: str) -> Poly:
    return Poly.symbol(f"mu_{a}")


def _th(ab: str, where: str) -> Poly:
    return Poly.symbol(f"th_{''.join(sorted(ab))}({where})")


def _nearest(p: Poly) -> Poly:
    """p at |R| = 1: ϑ(R) → ϑ(1)."""
    return p.subs({f"th_{q}(R)": _th(q, "1") for q in _PAIRS})


@dataclass(frozen=True)
class Equations:
    r"""The MFQF equations in the grouping of App. D, as polynomials (:class:`Poly`).

    .. math::

        \partial_t\vartheta_{ab}(R) = \underbrace{\textstyle\sum_d\Pi_{ad}\vartheta_{db}(R)
            + \sum_d\Pi_{bd}\vartheta_{ad}(R)}_{\text{local}} + g_{ab}
            + \underbrace{\delta_{\|R\|,1}F^{(1)}_{ab} + [\mathcal Z - \delta_{\|R\|,1}]
            F^{(\mathcal Z)}_{ab} + \sum_{R'\neq0,\|R'-R\|=1}F^{(\Sigma)}_{ab}(R')}_{f_{ab}}

    Symbols: ``mu_a`` (μ_a), ``th_ab(R)``, ``th_ab(1)`` (nearest neighbour), ``th_ab(R')``
    (inside the sum over the neighbours R' ≠ 0 of R), with a ≤ b in x < y < z (ϑ symmetric,
    which assumes inversion symmetry); parameters ``Delta``, ``Omega``, ``Gamma``, ``J`` (XY)
    or ``J_z`` (Ising), ``Z``.

    Attributes
    ----------
    coupling : str
        ``"xy"`` or ``"ising"``.
    source : str
        ``"derived"`` or ``"printed"`` (App. D of the paper, transcribed).
    mu : dict
        ``"x"`` → right-hand side of ∂_t μ_x (Eqs. 4–6, ϑ(1) = η(1) + μμ), etc.
    local, g, f_delta, f_Z, f_sum : dict
        ``"xz"`` → the Π part, :math:`g_{xz}`, :math:`F^{(1)}`, :math:`F^{(\mathcal Z)}`,
        :math:`F^{(\Sigma)}` of :math:`\partial_t\vartheta_{xz}(R)`; keys :data:`_PAIRS`.
    """

    coupling: str
    source: str
    mu: dict
    local: dict
    g: dict
    f_delta: dict
    f_Z: dict
    f_sum: dict

    def coupling_part(self, ab: str, case: str) -> Poly:
        r""":math:`f_{ab}` for ``case="far"`` (|R| ≥ 2: δ = 0) or ``"nn"`` (|R| = 1: δ = 1 and
        ϑ(R) = ϑ(1), where only the sum of the δ- and [Z − δ]-terms is meaningful)."""
        ab = _pair(ab)
        Z = Poly.symbol("Z")
        if case == "far":
            return Z * self.f_Z[ab] + self.f_sum[ab]
        if case != "nn":
            raise ValueError(f"case must be 'far' or 'nn', got {case!r}")
        return _nearest(self.f_delta[ab] + (Z - 1) * self.f_Z[ab] + self.f_sum[ab])

    def theta_rhs(self, ab: str, case: str) -> Poly:
        r"""Full :math:`\partial_t\vartheta_{ab}(R)` at |R| ≥ 2 (``"far"``) or |R| = 1
        (``"nn"``), see :meth:`coupling_part`."""
        ab = _pair(ab)
        if case not in ("far", "nn"):
            raise ValueError(f"case must be 'far' or 'nn', got {case!r}")
        local = self.local[ab] + self.g[ab]
        return (local if case == "far" else _nearest(local)) + self.coupling_part(ab, case)

    def evaluate(self, model: Model, lattice: Lattice, mu, eta) -> tuple[np.ndarray, np.ndarray]:
        r"""These equations as numbers: (∂_t μ, ∂_t η) in the layout of
        :func:`mfqf_rhs_reference`.

        The sum over R' runs over the neighbours R' ≠ 0 of R on ``lattice``;
        :math:`\vartheta(1)` is the mean of ϑ over the neighbours of the origin and
        :math:`\vartheta_{ab} = \tfrac12(\vartheta_{ab} + \vartheta_{ba})` — exact for a state
        with the lattice's point symmetry, which these equations assume.
        """
        _check_model_lattice(model, lattice)
        if model.coupling != self.coupling:
            raise ValueError(f"model.coupling is {model.coupling!r}, these equations are for "
                             f"{self.coupling!r}")
        mu = _real_array("mu", mu, (3,))
        eta = _real_array("eta", eta, (3, 3, *lattice.shape))
        coords = np.asarray(lattice.coords)
        A = lattice.adjacency()

        def theta(s):  # symmetrised ϑ_ab at the displacement of site s, by symbol name
            R = tuple(int(v) for v in coords[s])
            th = np.outer(mu, mu) + eta[(slice(None), slice(None)) + R]
            th = 0.5 * (th + th.T)
            return {ab: th[AXES.index(ab[0]), AXES.index(ab[1])] for ab in _PAIRS}

        nn = np.flatnonzero(A[0])
        th1 = {ab: np.mean([theta(s)[ab] for s in nn]) for ab in _PAIRS}
        values = {"Delta": model.Delta, "Omega": model.Omega, "Gamma": model.Gamma,
                  "J": model.J, "J_z": model.J, "Z": float(lattice.Z)}
        values.update({f"mu_{a}": mu[i] for i, a in enumerate(AXES)})
        values.update({f"th_{ab}(1)": v for ab, v in th1.items()})
        dmu = np.array([self.mu[a].subs(values).value().real for a in AXES])
        deta = np.zeros_like(eta)
        for s in range(1, lattice.N):
            here = dict(values, delta=float(A[0, s]))
            here.update({f"th_{ab}(R)": v for ab, v in theta(s).items()})
            neighbours = [t for t in np.flatnonzero(A[s]) if t != 0]
            for ab in _PAIRS:
                value = (self.local[ab] + self.g[ab] + here["delta"] * self.f_delta[ab]
                         + (here["Z"] - here["delta"]) * self.f_Z[ab]).subs(here).value()
                for t in neighbours:
                    th_t = theta(t)
                    value += self.f_sum[ab].subs(
                        dict(here, **{f"th_{p}(R')": th_t[p] for p in _PAIRS})).value()
                a, b = AXES.index(ab[0]), AXES.index(ab[1])
                R = tuple(int(v) for v in coords[s])
                deta[(a, b) + R] = deta[(b, a) + R] = (
                    value.real - dmu[a] * mu[b] - mu[a] * dmu[b])
        return dmu, deta

    def latex(self) -> list[str]:
        """LaTeX rows for an ``aligned`` block: ∂_t μ_a, then ∂_t ϑ_ab(R) in the grouping
        above, the local and g terms on the first row of each, each part of f on its own."""
        rows = [rf"\partial_t\mu_{a} &= {self.mu[a].latex()}" for a in AXES]
        for ab in _PAIRS:
            head = " + ".join(t for t in (self.local[ab].latex(), self.g[ab].latex())
                              if t != "0").replace("+ -", "- ")
            rows.append(rf"\partial_t\vartheta_{{{ab}}}(R) &= {head or '0'}")
            parts = ((self.f_delta[ab], r"\delta_{\|R\|,1}"),
                     (self.f_Z[ab], r"[\mathcal{Z}-\delta_{\|R\|,1}]"),
                     (self.f_sum[ab], r"\sum_{R'\neq0,\|R'-R\|=1}"))
            rows += [rf"&\quad + {factor}\big[{part.latex()}\big]" for part, factor in parts
                     if part]
        return rows


def _symbolic_closure(labels: dict):
    """one/two callables giving μ and ϑ symbols; ``labels[{i, j}]`` names the displacement."""

    def one(site, a):
        return _mu(AXES[a])

    def two(A, B):
        (i, a), (j, b) = A, B
        return _th(AXES[a] + AXES[b], labels[frozenset((i, j))])

    return one, two


@functools.lru_cache(maxsize=2)
def derived_equations(coupling: str = "xy") -> Equations:
    r"""The MFQF equations derived by applying :math:`\mathcal L^\dagger` with symbolic
    coefficients, grouped as App. D (Eqs. 4–6, D4, D8–D14 for XY; D16–D21 for Ising).

    The derivation runs on four representative sites: the origin 0, the site R, a neighbour
    R' ≠ 0 of R and a neighbour r ≠ R of 0. Each of the :math:`\mathcal Z - \delta_{\|R\|,1}`
    bonds (R, R') and (0, r) gives a three-point string, closed with ζ = 0 into μ·ϑ(R),
    μ·ϑ(1) (the bond's own correlator), μ³ and μ·ϑ(R') terms (for the bond at 0,
    ⟨σ_R σ_r⟩ = ϑ(R − r), R − r again a neighbour ≠ 0 of R); the bond (R, 0), present when
    |R| = 1, gives a two-site string evaluated exactly. This assumes the lattice symmetry of
    App. D: ϑ(δ) the same for all nearest neighbours δ, and ϑ_ab = ϑ_ba (inversion).

    Parameters
    ----------
    coupling : {"xy", "ising"}

    Returns
    -------
    Equations
        ``source="derived"``.
    """
    if coupling not in ("xy", "ising"):
        raise ValueError(f"coupling must be 'xy' or 'ising', got {coupling!r}")
    Delta, Omega, Gamma = (Poly.symbol(n) for n in ("Delta", "Omega", "Gamma"))
    J = Poly.symbol("J" if coupling == "xy" else "J_z")
    origin, R, Rp, r = 0, 1, 2, 3
    H_local = {s: _site_terms(s, Delta, Omega) for s in (origin, R)}

    def diss(op):
        return _adjoint(op, PauliSum(), Gamma)

    # one-point equations: Z identical bonds (0, r)
    one, two = _symbolic_closure({frozenset((origin, r)): "1"})
    mu = {}
    for a in range(3):
        op = PauliSum.sigma(origin, a)
        rhs = (1j * commutator(H_local[origin], op) + diss(op)
               + commutator(_bond_terms(origin, r, J, coupling), op) * (1j * Poly.symbol("Z")))
        mu[AXES[a]] = _real_poly(closed_expectation(rhs, one, two))

    labels = {frozenset((R, origin)): "R", frozenset((R, Rp)): "1", frozenset((Rp, origin)): "R'",
              frozenset((origin, r)): "1", frozenset((R, r)): "R'"}
    one, two = _symbolic_closure(labels)
    out = {k: {} for k in ("local", "g", "f_delta", "f_Z", "f_sum")}
    for ab in _PAIRS:
        a, b = AXES.index(ab[0]), AXES.index(ab[1])
        op = PauliSum.string([(R, a), (origin, b)])

        def closed(x):
            return _real_poly(closed_expectation(x, one, two))

        out["local"][ab] = closed(1j * commutator(H_local[R] + H_local[origin], op))
        out["g"][ab] = closed(diss(op))
        out["f_delta"][ab] = closed(1j * commutator(_bond_terms(R, origin, J, coupling), op))
        bonds = closed(1j * commutator(_bond_terms(R, Rp, J, coupling)
                                       + _bond_terms(origin, r, J, coupling), op))
        out["f_sum"][ab], out["f_Z"][ab] = bonds.split(lambda m: any("(R')" in s for s in m))
    return Equations(coupling, "derived", mu, **out)


def _real_poly(p) -> Poly:
    p = Poly._lift(p)
    for m, c in p.terms.items():
        if abs(complex(c).imag) > 1e-12:
            raise ArithmeticError(f"non-real coefficient {c} of {m} in an expectation value")
    return Poly({m: complex(c).real for m, c in p.terms.items()})


def printed_equations(coupling: str = "xy") -> Equations:
    r"""Eqs. (4)–(6) and App. D exactly as printed in the paper, in the grouping of
    :class:`Equations` (D4 with D5 and D14; f from D8–D13 for XY, D16–D21 for Ising).

    Transcribed literally, misprints included: in particular the first sum of D4 is read as
    printed, :math:`\sum_d\Pi_{ad}\vartheta_{ab}(R)`. For the Ising model Eqs. (4)–(6) hold
    with :math:`J\to-J_z` (App. B). Γ is restored where the paper sets Γ = 1.
    """
    if coupling not in ("xy", "ising"):
        raise ValueError(f"coupling must be 'xy' or 'ising', got {coupling!r}")
    Delta, Omega, Gamma, Z = (Poly.symbol(n) for n in ("Delta", "Omega", "Gamma", "Z"))
    J = Poly.symbol("J") if coupling == "xy" else -1 * Poly.symbol("J_z")
    mx, my, mz = _mu("x"), _mu("y"), _mu("z")
    # Eqs. (4)-(6), with eta(1) = theta(1) - mu mu
    mu = {"x": -J * Z * _th("yz", "1") - Delta * my - 0.5 * Gamma * mx,
          "y": J * Z * _th("xz", "1") - 2 * Omega * mz + Delta * mx - 0.5 * Gamma * my,
          "z": 2 * Omega * my - Gamma * (1 + mz)}
    # D4 with D5: sum_d Pi_ad theta_ab + sum_d Pi_bd theta_ad (as printed)
    Pi = {"x": {"y": -Delta}, "y": {"x": Delta, "z": -2 * Omega}, "z": {"y": 2 * Omega}}
    local = {}
    for ab in _PAIRS:
        a, b = ab
        local[ab] = (sum((p for p in Pi[a].values()), Poly()) * _th(ab, "R")
                     + sum((p * _th(a + d, "R") for d, p in Pi[b].items()), Poly()))
    # D14
    g = {"xx": -Gamma * _th("xx", "R"), "yy": -Gamma * _th("yy", "R"),
         "zz": -Gamma * _th("zz", "R"), "xy": -Gamma * _th("xy", "R"),
         "xz": -Gamma * (2 * _th("xz", "R") + 1.5 * mx),
         "yz": -Gamma * (2 * _th("yz", "R") + 1.5 * my)}
    f_delta, f_Z, f_sum = _printed_f(coupling)
    return Equations(coupling, "printed", mu, local, g, f_delta, f_Z, f_sum)


def _printed_f(coupling: str):
    """f_ab of D8–D13 (XY) or D16–D21 (Ising), split as (δ terms, [Z − δ] bracket, Σ_R')."""
    mx, my, mz = _mu("x"), _mu("y"), _mu("z")

    def t(ab, where):
        return _th(ab, where)

    R, one, Rp = "R", "1", "R'"
    if coupling == "xy":
        J = Poly.symbol("J")
        f_delta = {"xx": Poly(), "yy": Poly(), "zz": Poly(), "xy": Poly(),
                   "xz": -J * my, "yz": J * mx}
        f_Z = {
            "xx": 2 * J * (2 * mx * my * mz - mx * t("yz", one) - my * t("xz", R)),      # D8
            "yy": -2 * J * (2 * mx * my * mz - my * t("xz", one) - mx * t("yz", R)),     # D9
            "zz": -2 * J * (mx * t("yz", R) - my * t("xz", R)),                          # D10
            "xy": J * (2 * my * my * mz - 2 * mx * mx * mz - my * t("yz", one)           # D11
                       - my * t("yz", R) + mx * t("xz", one) + mx * t("xz", R)),
            "xz": J * (2 * mz * mz * my - mz * t("yz", one) - my * t("zz", R)            # D12
                       - mx * t("xy", R) + my * t("xx", R)),
            "yz": J * (-2 * mz * mz * mx + mz * t("xz", one) + mx * t("zz", R)           # D13
                       - mx * t("yy", R) + my * t("xy", R)),
        }
        f_sum = {
            "xx": -2 * J * mz * t("xy", Rp),
            "yy": 2 * J * mz * t("xy", Rp),
            "zz": -2 * J * (my * t("xz", Rp) - mx * t("yz", Rp)),
            "xy": -J * (mz * t("yy", Rp) - mz * t("xx", Rp)),
            "xz": -J * (mz * t("yz", Rp) + my * t("xx", Rp) - mx * t("xy", Rp)),
            "yz": J * (mz * t("xz", Rp) - my * t("xy", Rp) + mx * t("yy", Rp)),
        }
    else:
        J = Poly.symbol("J_z")
        f_delta = {"xx": Poly(), "yy": Poly(), "zz": Poly(), "xy": Poly(),
                   "xz": J * my, "yz": -J * mx}
        f_Z = {
            "xx": -2 * J * (2 * mx * my * mz - mx * t("yz", one) - mz * t("xy", R)),     # D16
            "yy": 2 * J * (2 * mx * my * mz - my * t("xz", one) - mz * t("xy", R)),      # D17
            "zz": Poly(),                                                                # D18
            "xy": J * (2 * mx * mx * mz - 2 * my * my * mz - mx * t("xz", one)           # D19
                       - mz * t("xx", R) + my * t("yz", one) + mz * t("yy", R)),
            "xz": -J * (2 * mz * mz * my - mz * t("yz", one) - mz * t("yz", R)),         # D20
            "yz": J * (2 * mz * mz * mx - mz * t("xz", one) - mz * t("xz", R)),          # D21
        }
        f_sum = {
            "xx": 2 * J * my * t("xz", Rp),
            "yy": -2 * J * mx * t("yz", Rp),
            "zz": Poly(),
            "xy": J * (my * t("yz", Rp) - mx * t("xz", Rp)),
            "xz": J * my * t("zz", Rp),
            "yz": -J * mx * t("zz", Rp),
        }
    return f_delta, f_Z, f_sum


@dataclass(frozen=True)
class Misprint:
    """One equation where the printed App. D differs from the derived one.

    Attributes
    ----------
    equation : str
        ``"mu_x"`` … or ``"theta_xz"`` ….
    part : str
        Which group differs: ``"mu"``, ``"local"`` (Π, Eq. D4), ``"g"`` (D14), ``"f"`` (D8–D13
        or D16–D21).
    case : str
        ``"far"`` (|R| ≥ 2), ``"nn"`` (|R| = 1) or ``"all"`` (μ equations).
    difference : Poly
        derived − printed (what must be added to the printed right-hand side).
    """

    equation: str
    part: str
    case: str
    difference: Poly


def misprints(coupling: str = "xy") -> list[Misprint]:
    r"""Where the printed equations (:func:`printed_equations`) differ from the derived ones.

    The local (Π) and dissipative (g) parts are compared as such; the coupling part
    :math:`f_{ab}` is compared as a whole at |R| ≥ 2 (``"far"``) and at |R| = 1 (``"nn"``,
    where ϑ(R) = ϑ(1), so only the sum of the δ- and [Z − δ]-terms is meaningful).
    """
    derived, printed = derived_equations(coupling), printed_equations(coupling)
    out = []
    for a in AXES:
        diff = derived.mu[a] - printed.mu[a]
        if diff:
            out.append(Misprint(f"mu_{a}", "mu", "all", diff))
    for ab in _PAIRS:
        for part in ("local", "g"):
            diff = getattr(derived, part)[ab] - getattr(printed, part)[ab]
            if diff:
                out.append(Misprint(f"theta_{ab}", part, "all", diff))
        for case in ("far", "nn"):
            diff = derived.coupling_part(ab, case) - printed.coupling_part(ab, case)
            if diff:
                out.append(Misprint(f"theta_{ab}", "f", case, diff))
    return out


@dataclass(frozen=True)
class ClosureScan:
    r"""How well the closed equations reproduce the exact rates in states with pair
    correlations of strength ε (see :func:`closure_error_scan`).

    Attributes
    ----------
    epsilons : ndarray, shape (n,)
    error_mu : ndarray, shape (n,)
        :math:`\max_a|\partial_t\mu_a^{\rm closed} - \partial_t\mu_a^{\rm exact}|`.
    error_derived, error_printed : ndarray, shape (n,)
        :math:`\max_{ab,R}|\partial_t\eta_{ab}(R) - \partial_t\eta^{\rm exact}_{ab}(R)|` with
        the derived equations (:func:`mfqf_rhs_reference`) and with App. D as printed.
    change : ndarray, shape (n,)
        :math:`\max|\partial_t\eta^{\rm exact}(\epsilon) - \partial_t\eta^{\rm exact}(0)|`,
        the O(ε) signal the closure must get right.
    slope : float
        Fitted exponent of ``error_derived`` ∝ ε^slope (2 for a correct closure).
    converged : bool
        The exact states were translation invariant to 1e-12 and all numbers finite.
    message : str
    """

    epsilons: np.ndarray
    error_mu: np.ndarray
    error_derived: np.ndarray
    error_printed: np.ndarray
    change: np.ndarray
    slope: float
    converged: bool
    message: str


def closure_error_scan(model: Model, lattice: Lattice, epsilons, *, mu=(0.3, -0.2, -0.5),
                       seed: int = 0, scale: float = 0.05) -> ClosureScan:
    r"""The ε² test: closed vs exact rates in :func:`correlated_product_state` states.

    For each ε the exact μ, η and their rates come from the full Liouvillian
    (:func:`exact_rates`); the closed rates from :func:`mfqf_rhs_reference` (and from the
    printed App. D, :func:`printed_equations`) evaluated at the exact μ, η. Since ζ = O(ε²)
    the closed rates err at O(ε²); a wrong first-order term would show as O(ε) or O(1).

    Parameters
    ----------
    model : Model
    lattice : Lattice
        Small periodic chain/hypercubic lattice (N ≲ 9).
    epsilons : array_like, shape (n,)
        Positive correlation strengths.
    mu : array_like, shape (3,)
        Bloch vector of the product state.
    seed, scale
        For :func:`symmetric_pair_amplitudes`.
    """
    _check_model_lattice(model, lattice)
    try:
        epsilons = np.asarray(epsilons, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"epsilons must be positive numbers, got {epsilons!r}") from None
    if epsilons.ndim != 1 or len(epsilons) < 2 or not (epsilons > 0).all():
        raise ValueError("epsilons must be at least two positive numbers")
    c = symmetric_pair_amplitudes(lattice, seed, scale)
    printed = printed_equations(model.coupling)
    base = exact_rates(model, lattice, correlated_product_state(lattice, mu, c, 0.0))
    rows, worst = [], 0.0
    for eps in epsilons:
        ex = exact_rates(model, lattice, correlated_product_state(lattice, mu, c, eps))
        worst = max(worst, ex.translation_error)
        dmu, deta = mfqf_rhs_reference(model, lattice, ex.mu, ex.eta)
        _, deta_printed = printed.evaluate(model, lattice, ex.mu, ex.eta)
        rows.append((np.abs(dmu - ex.dmu).max(), np.abs(deta - ex.deta).max(),
                     np.abs(deta_printed - ex.deta).max(), np.abs(ex.deta - base.deta).max()))
    err_mu, err_derived, err_printed, change = np.array(rows).T
    slope = float(np.polyfit(np.log(epsilons), np.log(err_derived), 1)[0])
    ok = worst < 1e-12 and np.isfinite(rows).all()
    message = ("ok" if ok else
               f"state not translation invariant ({worst:.1e}) or non-finite rates")
    return ClosureScan(epsilons, err_mu, err_derived, err_printed, change, slope, ok, message)
