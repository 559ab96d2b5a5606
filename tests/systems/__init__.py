"""Reference systems: small problems whose steady state is known independently of ddlib's
solvers, to be run through every solver (``tests/test_systems.py``).

* **free** systems (J = 0) on lattices of every geometry: every spin is the driven, damped
  single spin, whose Bloch vector has the closed form ``ddlib.model.single_spin_steady_state``
  (Eqs. 4–6 with J = 0); the product state is the exact many-body steady state.
* **ring4**, **open_chain4**: interacting, solved by QuTiP's ``steadystate`` of the full
  :math:`4^N` Liouvillian (``ddlib.model.liouvillian``, the model's one definition of H and
  the jumps), at import-free cost (0.2 s).
* **cylinder3x2**: interacting ladder of 6 sites; QuTiP needs about a minute, so its site
  average is stored in ``references.json`` (how it was made is written next to it) and
  ``test_stored_references_are_current`` (slow) recomputes it.

Each :class:`System` says which solvers apply to it (``solvers``, with the parameters they
need) and to what tolerance they must reproduce the reference μ (site average).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ddlib import Model, lattice
from ddlib.lattice import Lattice

REFERENCES = Path(__file__).with_name("references.json")


def site_op(op, i: int, N: int):
    """``op`` (a QuTiP operator of one spin) on site ``i`` of ``N``, identity elsewhere."""
    import qutip

    return qutip.tensor([qutip.qeye(2)] * i + [op] + [qutip.qeye(2)] * (N - i - 1))


def site_mu(rho, N: int) -> np.ndarray:
    """⟨σᵃ_i⟩ of a state of N spins (QuTiP ``Qobj`` or dense matrix), shape (N, 3)."""
    import qutip

    if not isinstance(rho, qutip.Qobj):
        rho = qutip.Qobj(np.asarray(rho), dims=[[2] * N] * 2)
    ops = [qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()]
    return np.array([[qutip.expect(op, rho.ptrace(i)) for op in ops] for i in range(N)])


def qutip_rho(model: Model, lat: Lattice):
    """QuTiP's steady state (a ``Qobj``) of the full 4^N Liouvillian (small N only)."""
    import qutip

    from ddlib.model import liouvillian

    return qutip.steadystate(liouvillian(model, lat))


def qutip_mu(model: Model, lat: Lattice) -> np.ndarray:
    """Site-averaged μ of QuTiP's steady state of the full Liouvillian (small N only)."""
    return site_mu(qutip_rho(model, lat), lat.N).mean(axis=0)


def exact_dynamics(model: Model, lat: Lattice, times) -> tuple[np.ndarray, np.ndarray]:
    """⟨σᵃ_i⟩(t), shape (n_t, N, 3), and ρ(t_final) (dense) from QuTiP's mesolve of the full
    Lindblad equation, all spins down at t = 0, at tight tolerances (small N only)."""
    import qutip

    from ddlib.model import collapse_operators, hamiltonian

    N = lat.N
    down = qutip.tensor([qutip.basis(2, 1)] * N)
    e_ops = [site_op(s, i, N) for i in range(N)
             for s in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    res = qutip.mesolve(hamiltonian(model, lat), down * down.dag(), times,
                        collapse_operators(model, lat), e_ops=e_ops,
                        options={"atol": 1e-13, "rtol": 1e-11, "store_final_state": True})
    mu = np.array(res.expect).T.reshape(len(times), N, 3)
    return mu, res.final_state.full()


def single_spin_rates(model: Model) -> np.ndarray:
    """The three non-zero eigenvalues of one spin's Liouvillian (QuTiP's, built from
    H = Δ/2 σᶻ + Ω σˣ and the jump √Γ σ⁻ written out here), sorted by real part: the rates at
    which a free spin's Bloch vector relaxes (at J = 0 these are the eigenvalues of the Bloch
    equations' matrix; the one at 0 is the steady state)."""
    import qutip

    h = 0.5 * model.Delta * qutip.sigmaz() + model.Omega * qutip.sigmax()
    ev = np.linalg.eigvals(qutip.liouvillian(h, [np.sqrt(model.Gamma) * qutip.sigmam()]).full())
    ev = ev[np.argsort(np.abs(ev))][1:]                   # drop the steady state's 0
    return ev[np.argsort(ev.real)]


@dataclass(frozen=True)
class System:
    """A reference system.

    Attributes
    ----------
    name : str
        Key in :data:`SYSTEMS` and the test id.
    model : Model
        Its parameters (J = 0 for the free systems).
    lattice : Lattice
        Its geometry.
    source : {"closed form", "qutip", "stored"}
        Where the reference μ comes from.
    solvers : dict
        ``{solver name: tolerance}``, or ``{name: (tolerance, parameters)}``; solvers absent
        do not apply (lattice not supported, or an approximation with nothing that must hold).
    slow : tuple of str
        Solvers whose run on this system is long (marked slow).
    """

    name: str
    model: Model
    lattice: Lattice
    source: str
    solvers: dict = field(default_factory=dict)
    slow: tuple = ()

    @property
    def mu(self) -> np.ndarray:
        """The reference site-averaged μ, shape (3,)."""
        return _reference(self.name)


FREE = Model(Delta=0.8, Omega=0.7, J=0.0)
COUPLED = Model(Delta=1.3, Omega=0.6, J=1.0)

SYSTEMS = {s.name: s for s in [
    System("free_fully_connected30", FREE, lattice.fully_connected(30), "closed form",
           {"exact": 1e-10, "meanfield": 1e-12}),
    # mfqf: at J = 0 ∂_t μ is linear and the first Newton step lands on the root; MINPACK
    # then stalls on its step test ("not making good progress") at |F| ~ 1e-17, which the
    # solver must still flag as converged (_solve asserts it)
    System("free_ring6", FREE, lattice.chain(6), "closed form",
           {"exact": 1e-10, "meanfield": 1e-12, "mfqf": 1e-10}),
    System("free_torus4x4", FREE, lattice.hypercubic(4, 2), "closed form",
           {"meanfield": 1e-12, "mfqf": 1e-10}),
    System("free_cluster2d8", FREE, lattice.cluster2d(8), "closed form",
           {"exact": 1e-10, "meanfield": 1e-12}),
    # Γ ≠ 1 and Δ < 0: the closed form in its other parameters
    System("free_ring6_gamma", FREE.replace(Delta=-1.0, Gamma=0.3), lattice.chain(6),
           "closed form", {"exact": 1e-10, "meanfield": 1e-12, "mfqf": 1e-10}),
    System("free_open_chain5", FREE, lattice.chain(5, periodic=False), "closed form",
           {"exact": 1e-10, "mpo": (1e-6, {"chi": 4})}),
    System("free_cylinder3x2", FREE, lattice.cylinder(3, 2), "closed form",
           {"exact": 1e-10, "mpo": (1e-6, {"chi": 4})}),
    System("ring4", COUPLED, lattice.chain(4), "qutip", {"exact": 1e-10}),
    # MPO at chi = 16 = 4^2 (exact for 4 sites), dt = 0.1, order 4: 3.8e-7 measured
    System("open_chain4", COUPLED, lattice.chain(4, periodic=False), "qutip",
           {"exact": 1e-10, "mpo": (1e-6, {"chi": 16})}),
    # MPO at chi = 64 = 4^3: 8e-8 measured, 90 s
    System("cylinder3x2", COUPLED.replace(J=1.0 / 3), lattice.cylinder(3, 2), "stored",
           {"exact": 1e-10, "mpo": (1e-6, {"chi": 64})}, slow=("mpo",)),
]}


def free_rows(solver: str) -> list[System]:
    """The free (J = 0, closed-form) systems that ``solver`` applies to: each solver's own
    J = 0 checks run over these (their μ is checked in ``tests/test_systems.py``)."""
    return [s for s in SYSTEMS.values() if s.source == "closed form" and solver in s.solvers]


@functools.cache
def _reference(name: str) -> np.ndarray:
    s = SYSTEMS[name]
    if s.source == "closed form":
        from ddlib.model import single_spin_steady_state

        return single_spin_steady_state(s.model)
    if s.source == "qutip":
        return qutip_mu(s.model, s.lattice)
    entry = json.loads(REFERENCES.read_text())[name]
    assert Model(**entry["model"]) == s.model and entry["lattice"] == s.lattice.key(), (
        f"{REFERENCES.name}: {name} was made for other parameters; rerun "
        "`python -m tests.systems` from the repository root")
    return np.array(entry["mu"])


def write_references() -> None:
    """Recompute the stored references with QuTiP and write ``references.json``."""
    import qutip

    out = {}
    for s in SYSTEMS.values():
        if s.source == "stored":
            out[s.name] = {"model": s.model.key(), "lattice": s.lattice.key(),
                           "mu": qutip_mu(s.model, s.lattice).tolist(),
                           "how": f"qutip {qutip.__version__} steadystate of "
                                  "ddlib.model.liouvillian, site average of sigma x, y, z"}
    REFERENCES.write_text(json.dumps(out, indent=1) + "\n")
