"""The model: parameter validation, the full-space operators and the single-spin closed form."""

from types import SimpleNamespace

import numpy as np
import pytest
import qutip
from badinput import bad_input_test, case

from ddlib import Model, lattice
from ddlib.model import (
    bond_matrix,
    bond_terms,
    check_model,
    collapse_operators,
    hamiltonian,
    jump_rate,
    liouvillian,
    onsite_matrix,
    onsite_terms,
    single_spin_steady_state,
)


def test_model_is_frozen_and_replace_revalidates():
    m = Model(1.0, 0.5, 2.0)
    with pytest.raises(AttributeError):
        m.Delta = 2.0
    assert m.replace(Delta=2.0).Delta == 2.0  # and a bad replacement is refused: BAD_INPUTS


@pytest.mark.parametrize("Delta, Omega, Gamma", [(0.0, 0.5, 1.0), (1.3, 0.5, 1.0),
                                                 (-2.0, 1.7, 1.0), (0.4, 0.9, 2.5)])
def test_single_spin_closed_form_matches_qutip_steadystate(Delta, Omega, Gamma):
    model = Model(Delta, Omega, J=3.0, Gamma=Gamma)  # J is irrelevant for one spin
    lat = lattice.fully_connected(2)
    rho = qutip.steadystate(hamiltonian(model.replace(J=0.0), lat),
                            collapse_operators(model, lat))
    one = rho.ptrace(0)
    mu = [qutip.expect(op, one) for op in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    np.testing.assert_allclose(mu, single_spin_steady_state(model), atol=1e-10)


def test_decay_drives_spins_down():
    """Ω = 0: the steady state is all spins down, μ_z = -1 (sign convention of σ⁻)."""
    mu = single_spin_steady_state(Model(0.7, 0.0, 0.0))
    np.testing.assert_allclose(mu, [0, 0, -1])
    lat = lattice.chain(3)
    L = liouvillian(Model(0.7, 0.0, 1.0), lat)
    down = qutip.tensor([qutip.basis(2, 1)] * 3)
    assert (L * qutip.operator_to_vector(qutip.ket2dm(down))).norm() < 1e-12


@pytest.mark.parametrize("coupling", ["xy", "ising"])
def test_terms_written_once_give_the_paper_hamiltonian(coupling):
    """The bond term and the jump operator, assembled by hand on two sites, are Eq. (2) (or
    B1) written with σ±: the XY bond −(J/2)(σˣσˣ + σʸσʸ) is the flip-flop hopping
    −J(σ⁺σ⁻ + h.c.), the Ising one −(J/2)σᶻσᶻ, in the bond matrix and in the Hamiltonian of a
    bond with no field; and Eq. (3)'s decay goes to |↓⟩. (The on-site term: the single-spin
    closed form against QuTiP above.)"""
    from ddlib.model import SIGMA_MINUS

    m = Model(0.8, 0.3, 0.7, Gamma=1.4, coupling=coupling)
    sp, sm, sz = qutip.sigmap().full(), qutip.sigmam().full(), qutip.sigmaz().full()
    hop = -0.7 * (np.kron(sp, sm) + np.kron(sm, sp)) if coupling == "xy" \
        else -0.35 * np.kron(sz, sz)
    np.testing.assert_allclose(bond_matrix(m), hop, atol=1e-15)
    pair = lattice.chain(2, periodic=False)
    H = hamiltonian(Model(0.0, 0.0, 0.7, coupling=coupling), pair).full()
    np.testing.assert_allclose(H, hop, atol=1e-12)
    np.testing.assert_allclose(SIGMA_MINUS @ np.array([1, 0]), [0, 1])  # |↑⟩ → |↓⟩
    c = collapse_operators(m, lattice.chain(2, periodic=False))[0].full()
    np.testing.assert_allclose(c, np.sqrt(1.4) * np.kron(sm, np.eye(2)))


# ------------------------------------------------------------------------------- bad input

M = Model(1.0, 0.5, 1.0)
PAIR = lattice.chain(2, periodic=False)
BAD_INPUTS = [
    case(Model, np.nan, 0.5, 1.0, param="Delta"),
    case(Model, True, 0.5, 1.0, param="Delta"),  # a bool is not a number here
    case(Model, 1.0, np.inf, 1.0, param="Omega"),
    case(Model, 1.0, 0.5, "1", param="J"),
    case(Model, 1.0, 0.5, 1.0, Gamma=0.0, param="Gamma"),
    case(Model, 1.0, 0.5, 1.0, Gamma=-1.0, param="Gamma"),
    case(Model, 1.0, 0.5, 1.0, coupling="heisenberg", param="coupling"),
    case(M.replace, Gamma=0.0, param="Gamma"),
    case(M.replace, Jz=1.0, param="Jz"),
    case(check_model, "model", param="model"),
    case(single_spin_steady_state, {"Delta": 1.0}, param="model"),
    case(onsite_terms, 1.0, param="model"),
    case(bond_terms, SimpleNamespace(J=1.0, coupling="dm"), param="model"),
    case(jump_rate, None, param="model"),
    case(onsite_matrix, "model", param="model"),
    case(bond_matrix, "model", param="model"),
    case(hamiltonian, "model", PAIR, param="model"),
    case(hamiltonian, M, "chain", param="lattice"),
    case(hamiltonian, M, lattice.chain(40), param="lattice"),
    case(collapse_operators, M, lattice.chain(40), param="lattice"),
    case(collapse_operators, 1.0, PAIR, param="model"),
    case(liouvillian, M, lattice.chain(16), param="lattice"),
    case(liouvillian, M, [(0, 1)], param="lattice"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
