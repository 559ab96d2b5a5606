r"""The driven-dissipative spin model of Landa, Schiró & Misguich (PRL 124, 043601).

Spins ½ on the sites :math:`R` of a lattice (Eqs. 1–3, ħ = 1):

.. math::

    \partial_t\rho = -i[H,\rho] + \Gamma\sum_R \Big[\sigma^-_R\rho\,\sigma^+_R
        - \tfrac12\{\sigma^+_R\sigma^-_R,\rho\}\Big],

.. math::

    H = \sum_R\Big[\frac{\Delta}{2}\sigma^z_R + \Omega\,\sigma^x_R\Big]
        - \sum_{\langle R,R'\rangle} J\,(\sigma^+_R\sigma^-_{R'} + \mathrm{h.c.})
      = \sum_R\Big[\frac{\Delta}{2}\sigma^z_R + \Omega\,\sigma^x_R\Big]
        - \frac{J}{2}\sum_{\langle R,R'\rangle}(\sigma^x_R\sigma^x_{R'} + \sigma^y_R\sigma^y_{R'}).

The Ising variant (App. B, Eq. B1) replaces the bond term by
:math:`-\tfrac{J}{2}\sum_{\langle R,R'\rangle}\sigma^z_R\sigma^z_{R'}` (``J`` plays the paper's
:math:`J_z`). Units: Γ = 1 sets frequency and time unless given otherwise.

Conventions used everywhere in ``ddlib``: the single-spin basis is (|↑⟩, |↓⟩) with
σᶻ|↑⟩ = +|↑⟩ (QuTiP's), σ⁻ = |↓⟩⟨↑| lowers, so the decay drives every spin to |↓⟩
(μ = (0, 0, −1)); site 0 is the leftmost tensor factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .lattice import Lattice

COUPLINGS = ("xy", "ising")


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


@dataclass(frozen=True)
class Model:
    r"""Parameters of the driven-dissipative spin lattice, Eqs. (1)–(3) and (B1).

    Parameters
    ----------
    Delta : float
        Detuning Δ of the drive from the spin transition (term :math:`\frac{\Delta}{2}\sigma^z`).
    Omega : float
        Rabi frequency Ω (term :math:`\Omega\sigma^x`).
    J : float
        Bond coupling. ``coupling="xy"``: hopping :math:`-J(\sigma^+\sigma^- + \mathrm{h.c.})`
        of Eq. (2); ``coupling="ising"``: :math:`-\frac{J}{2}\sigma^z\sigma^z` of Eq. (B1).
    Gamma : float, default 1
        Decay rate Γ > 0 of Eq. (3); the paper's unit of frequency.
    coupling : {"xy", "ising"}
        Which bond term.

    Raises
    ------
    ValueError
        For a non-finite or non-real parameter, ``Gamma <= 0`` or an unknown ``coupling``;
        the message names the parameter.

    Examples
    --------
    >>> from ddlib import Model
    >>> Model(Delta=1.5, Omega=0.5, J=1.0)
    Model(Delta=1.5, Omega=0.5, J=1.0, Gamma=1.0, coupling='xy')
    """

    Delta: float
    Omega: float
    J: float
    Gamma: float = 1.0
    coupling: str = "xy"

    def __post_init__(self):
        for name in ("Delta", "Omega", "J", "Gamma"):
            object.__setattr__(self, name, _real(name, getattr(self, name)))
        if self.Gamma <= 0:
            raise ValueError(f"Gamma must be > 0 (the decay rate), got {self.Gamma!r}")
        if self.coupling not in COUPLINGS:
            raise ValueError(f"coupling must be one of {COUPLINGS}, got {self.coupling!r}")

    def replace(self, **changes) -> Model:
        """A copy with some parameters changed (validated again)."""
        fields = {k: getattr(self, k) for k in ("Delta", "Omega", "J", "Gamma", "coupling")}
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"{', '.join(sorted(unknown))}: not a Model parameter "
                            f"(one of {tuple(fields)})")
        fields.update(changes)
        return Model(**fields)

    def key(self) -> dict:
        """Plain-dict form, used for cache keys and labels."""
        return {"Delta": self.Delta, "Omega": self.Omega, "J": self.J, "Gamma": self.Gamma,
                "coupling": self.coupling}


def check_model(model) -> Model:
    """``model`` itself if it is a :class:`Model`, else a ValueError naming the parameter."""
    if not isinstance(model, Model):
        raise ValueError(f"model must be a ddlib.Model, got {type(model).__name__}")
    return model


def single_spin_steady_state(model: Model) -> np.ndarray:
    r"""Closed-form Bloch-vector steady state of one spin (J plays no role).

    Setting the time derivatives of Eqs. (4)–(6) with J = 0 (and general Γ) to zero,

    .. math::

        0 = -\Delta\mu_y - \tfrac{\Gamma}{2}\mu_x,\quad
        0 = \Delta\mu_x - 2\Omega\mu_z - \tfrac{\Gamma}{2}\mu_y,\quad
        0 = 2\Omega\mu_y - \Gamma(1 + \mu_z),

    gives, with :math:`D = \Gamma^2 + 4\Delta^2 + 8\Omega^2`,

    .. math::

        \mu_x = -\frac{8\Delta\Omega}{D},\qquad \mu_y = \frac{4\Gamma\Omega}{D},\qquad
        \mu_z = -\frac{\Gamma^2 + 4\Delta^2}{D}.

    Returns
    -------
    ndarray, shape (3,)
        :math:`(\mu_x, \mu_y, \mu_z)`.

    Examples
    --------
    At Δ = 1, Ω = ½, Γ = 1, D = 7: μ = (−4, 2, −5)/7, a mixed state (|μ| < 1) tilted from
    |↓⟩ by the drive.

    >>> from ddlib import Model
    >>> from ddlib.model import single_spin_steady_state
    >>> mu = single_spin_steady_state(Model(Delta=1.0, Omega=0.5, J=0.0))
    >>> print(np.round(7 * mu, 12))
    [-4.  2. -5.]
    >>> bool(np.linalg.norm(mu) < 1)
    True
    """
    check_model(model)
    D = model.Gamma**2 + 4 * model.Delta**2 + 8 * model.Omega**2
    return np.array([-8 * model.Delta * model.Omega, 4 * model.Gamma * model.Omega,
                     -(model.Gamma**2 + 4 * model.Delta**2)]) / D


# ------------------------------------------------------------------------------------------
# The terms of Eqs. (2), (3) and (B1), written once: every builder (QuTiP operators here, the
# Pauli-string algebra of ddlib.pauli, the exact and MPO builders) assembles them from these.
# ------------------------------------------------------------------------------------------

#: Pauli matrices in the basis (|↑⟩, |↓⟩), σᶻ|↑⟩ = +|↑⟩ (QuTiP's), dense 2×2, read-only.
PAULI = {"x": np.array([[0, 1], [1, 0]], dtype=complex),
         "y": np.array([[0, -1j], [1j, 0]]),
         "z": np.array([[1, 0], [0, -1]], dtype=complex)}
#: The lowering operator σ⁻ = |↓⟩⟨↑| (the jump operator of Eq. 3, without its √Γ).
SIGMA_MINUS = np.array([[0, 0], [1, 0]], dtype=complex)
for _m in (*PAULI.values(), SIGMA_MINUS):
    _m.setflags(write=False)

#: Spin components of the bond term per coupling: σˣσˣ + σʸσʸ (XY, Eq. 2) or σᶻσᶻ (Eq. B1).
BOND_AXES = {"xy": ("x", "y"), "ising": ("z",)}


def onsite_terms(model) -> dict:
    r"""On-site Pauli coefficients of Eq. (2): :math:`\frac{\Delta}{2}\sigma^z + \Omega\sigma^x`.

    Parameters
    ----------
    model : Model
        Or any object with ``Delta`` and ``Omega`` (e.g. symbols, for a symbolic derivation).

    Returns
    -------
    dict
        ``{"x": Ω, "z": Δ/2}``: the single-site Hamiltonian is
        :math:`\sum_a c_a\sigma^a`.
    """
    if not (hasattr(model, "Delta") and hasattr(model, "Omega")):
        raise TypeError(f"model must be a Model (or have Delta and Omega), got {model!r}")
    return {"x": model.Omega, "z": 0.5 * model.Delta}


def bond_terms(model) -> dict:
    r"""Pauli-pair coefficients of one bond ⟨R, R'⟩, Eq. (2) or (B1).

    .. math::

        -\frac J2(\sigma^x_R\sigma^x_{R'} + \sigma^y_R\sigma^y_{R'})\ \ (\texttt{"xy"}),\qquad
        -\frac J2\sigma^z_R\sigma^z_{R'}\ \ (\texttt{"ising"}).

    Parameters
    ----------
    model : Model
        Or any object with ``J`` and ``coupling``.

    Returns
    -------
    dict
        ``{(a, b): c}`` with the bond Hamiltonian :math:`\sum c\,\sigma^a_R\sigma^b_{R'}`:
        ``{("x", "x"): −J/2, ("y", "y"): −J/2}`` or ``{("z", "z"): −J/2}``.

    Examples
    --------
    >>> from ddlib import Model
    >>> bond_terms(Model(Delta=0.0, Omega=0.5, J=1.0))
    {('x', 'x'): -0.5, ('y', 'y'): -0.5}
    >>> bond_terms(Model(Delta=0.0, Omega=0.5, J=1.0, coupling="ising"))
    {('z', 'z'): -0.5}
    """
    if not (hasattr(model, "J") and getattr(model, "coupling", None) in BOND_AXES):
        raise TypeError(f"model must be a Model (or have J and a coupling in "
                        f"{tuple(BOND_AXES)}), got {model!r}")
    return {(a, a): -0.5 * model.J for a in BOND_AXES[model.coupling]}


def jump_rate(model) -> float:
    r"""Rate Γ of the jump operator :math:`\sigma^-_R` on every site, Eq. (3)
    (:data:`SIGMA_MINUS`; the Lindblad operator is :math:`\sqrt\Gamma\sigma^-_R`)."""
    return check_model(model).Gamma


def onsite_matrix(model: Model) -> np.ndarray:
    """The single-site Hamiltonian of :func:`onsite_terms` as a dense 2×2 array."""
    check_model(model)
    return sum(c * PAULI[a] for a, c in onsite_terms(model).items())


def bond_matrix(model: Model) -> np.ndarray:
    """One bond's Hamiltonian of :func:`bond_terms` as a dense 4×4 array (site R first)."""
    check_model(model)
    return sum(c * np.kron(PAULI[a], PAULI[b]) for (a, b), c in bond_terms(model).items())


#: Largest N of the full-space QuTiP operators (2^N states; the Liouvillian has 4^N).
MAX_FULL_SPACE_SITES = 20


def _full_space_sites(lattice) -> int:
    """lattice.N, refused (naming ``lattice``) beyond :data:`MAX_FULL_SPACE_SITES`."""
    from .lattice import check_lattice

    N = check_lattice(lattice).N
    if N > MAX_FULL_SPACE_SITES:
        raise ValueError(f"lattice has N = {N} sites: the full-space operators act on 2^N = "
                         f"{2.0**N:.3g} states; at most N = {MAX_FULL_SPACE_SITES} "
                         "(use ddlib.exact, which exploits symmetry, for more)")
    return N


def hamiltonian(model: Model, lattice: Lattice):
    r"""Full many-body Hamiltonian, Eq. (2) or (B1), as a QuTiP operator on 2^N states.

    Assembled from :func:`onsite_terms` and :func:`bond_terms`. Meant for small N (reference
    computations and tests); sparse storage.

    Examples
    --------
    Two spins coupled by the XY bond alone (Δ = Ω = 0): the hopping
    :math:`-J(\sigma^+_0\sigma^-_1 + \mathrm{h.c.})` splits the one-flip states
    :math:`(|{\uparrow\downarrow}\rangle \pm |{\downarrow\uparrow}\rangle)/\sqrt2` to ∓J
    and leaves |↑↑⟩, |↓↓⟩ at 0.

    >>> from ddlib import Model, lattice
    >>> H = hamiltonian(Model(Delta=0.0, Omega=0.0, J=1.0), lattice.fully_connected(2))
    >>> print(np.linalg.eigvalsh(H.full()).round(12) + 0.0)
    [-1.  0.  0.  1.]
    """
    import qutip

    check_model(model)
    N = _full_space_sites(lattice)
    sigma = {a: qutip.Qobj(m).to("csr") for a, m in PAULI.items()}

    def site(op, i):
        ops = [qutip.qeye(2)] * N
        ops[i] = op
        return qutip.tensor(ops)

    H = 0
    for i in range(N):
        for a, c in onsite_terms(model).items():
            H = H + c * site(sigma[a], i)
    for i, j in lattice.bonds:
        for (a, b), c in bond_terms(model).items():
            H = H + c * site(sigma[a], int(i)) * site(sigma[b], int(j))
    return H


def collapse_operators(model: Model, lattice: Lattice) -> list:
    r"""Jump operators :math:`\sqrt{\Gamma}\,\sigma^-_R` of Eq. (3), one per site (QuTiP)."""
    import qutip

    check_model(model)
    N = _full_space_sites(lattice)
    minus = qutip.Qobj(SIGMA_MINUS).to("csr")
    out = []
    for i in range(N):
        ops = [qutip.qeye(2)] * N
        ops[i] = minus
        out.append(math.sqrt(jump_rate(model)) * qutip.tensor(ops))
    return out


def liouvillian(model: Model, lattice: Lattice):
    """Full Liouvillian superoperator (QuTiP, 4^N × 4^N) — the brute-force reference route.

    Refused (naming ``lattice``) when its sparse storage would not fit in memory: ~24 bytes
    per stored entry, 4^N rows of ~(2 + 4N + 4 n_bonds) entries each.

    Examples
    --------
    Without coupling (J = 0) the steady state of a pair is the product of two single-spin
    states: its ⟨σᶻ₀⟩ is the closed form of :func:`single_spin_steady_state`.

    >>> import qutip
    >>> from ddlib import Model, lattice
    >>> free = Model(Delta=1.0, Omega=0.5, J=0.0)
    >>> rho = qutip.steadystate(liouvillian(free, lattice.fully_connected(2)))
    >>> sz0 = qutip.tensor(qutip.sigmaz(), qutip.qeye(2))
    >>> bool(np.isclose(qutip.expect(sz0, rho), single_spin_steady_state(free)[2]))
    True
    """
    import qutip

    from .resources import available_memory, check_memory

    check_model(model)
    N = _full_space_sites(lattice)
    per_row = 24 * (2 + 4 * N + 4 * len(lattice.bonds))
    fits = int(math.log(max(available_memory() / per_row, 1.0), 4))
    check_memory(4.0**N * per_row, param="lattice", what=f"the Liouvillian of {lattice!r}",
                 counted=f"4^{N} rows of ~{per_row // 24} sparse entries of 24 bytes",
                 largest=f"N = {fits} sites (fewer with more bonds)")

    return qutip.liouvillian(hamiltonian(model, lattice), collapse_operators(model, lattice))
