"""MFQF (ddlib.mfqf) checked against exact Lindblad dynamics, closed forms and itself."""

import numpy as np
import pytest
import scipy.sparse

from ddlib import Model, lattice, mfqf
from ddlib.model import liouvillian, single_spin_steady_state

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def _site_op(op, i, N):
    return scipy.sparse.kron(scipy.sparse.kron(scipy.sparse.identity(2 ** i), op),
                             scipy.sparse.identity(2 ** (N - i - 1)), format="csr")


def _dressed_state(lat, mu, eps, g):
    """Product state of Bloch vector mu, entangled by exp(-i eps G), G = Σ_bonds g_ab σ^a σ^b
    (g symmetric: translation and inversion invariant): η = O(eps), connected 3-point O(eps²).
    """
    N = lat.N
    rho1 = 0.5 * (np.eye(2) + np.tensordot(mu, PAULI, 1))
    rho = rho1
    for _ in range(N - 1):
        rho = np.kron(rho, rho1)
    G = sum(g[a, b] * _site_op(PAULI[a], int(i), N) @ _site_op(PAULI[b], int(j), N)
            for i, j in lat.bonds for a in range(3) for b in range(3))
    w, V = np.linalg.eigh(G.toarray())
    U = (V * np.exp(-1j * eps * w)) @ V.conj().T
    return U @ rho @ U.conj().T


def _pair_expectations(rho, lat):
    """⟨σ^a_0⟩ (3,) and ⟨σ^a_R σ^b_0⟩ (3, 3, *shape), traced from rho (or from 𝓛[ρ]: the
    map is linear)."""
    N = lat.N
    T = rho.reshape((2,) * (2 * N))
    rows = "abcdefghijklmnop"[:N]
    one = np.einsum(rows + "X" + rows[1:] + "->" + rows[0] + "X", T)
    mu = np.einsum("ij,aji->a", one, PAULI).real
    pair = np.zeros((3, 3, *lat.shape))
    for i in range(1, N):
        cols = "X" + rows[1:i] + "Y" + rows[i + 1:]
        two = np.einsum(rows + cols + "->" + rows[i] + rows[0] + "YX", T)
        pair[(slice(None), slice(None), *lat.coords[i])] = np.einsum(
            "ijkl,aki,blj->ab", two, PAULI, PAULI).real
    return mu, pair


def _exact_derivatives(L, lat, rho):
    """Exact μ, η and their time derivatives from tr(O ρ) and tr(O 𝓛[ρ])."""
    d = 2 ** lat.N
    drho = (L @ rho.reshape(-1, order="F")).reshape(d, d, order="F")
    mu, pair = _pair_expectations(rho, lat)
    dmu, dpair = _pair_expectations(drho, lat)
    grid = (3, 3) + (1,) * lat.dim
    eta = pair - np.outer(mu, mu).reshape(grid)
    deta = dpair - (np.outer(dmu, mu) + np.outer(mu, dmu)).reshape(grid)
    return mu, eta, dmu, deta


@pytest.mark.slow
@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", [lattice.chain(7), lattice.hypercubic(3, 2)], ids=repr)
def test_kernel_matches_exact_lindblad_to_second_order(coupling, lat):
    """The closed equations differ from the exact ones only through the connected three-point
    correlators: O(ε²) for a product state entangled to O(ε), while η itself is O(ε). A wrong
    η-linear term would leave an O(ε) error."""
    model = Model(Delta=0.7, Omega=0.45, J=0.8, coupling=coupling)
    L = liouvillian(model, lat).to("csr").data_as("csr_matrix")
    g = np.random.default_rng(1).normal(size=(3, 3))
    errors, sizes = [], []
    for eps in (0.01, 0.005):
        rho = _dressed_state(lat, np.array([0.3, -0.2, -0.5]), eps, g + g.T)
        mu, eta, dmu_exact, deta_exact = _exact_derivatives(L, lat, rho)
        dmu, deta = mfqf.rhs(model, lat, mu, eta)
        off = np.ones(lat.shape, dtype=bool)
        off[(0,) * lat.dim] = False
        errors.append(max(np.abs(dmu - dmu_exact).max(),
                          np.abs((deta - deta_exact)[..., off]).max()))
        sizes.append(np.abs(eta[..., off]).max())
    assert sizes[0] / sizes[1] == pytest.approx(2.0, rel=0.05)
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)
    assert errors[1] < 0.1 * sizes[1]


def test_uncoupled_spins_relax_to_the_single_spin_steady_state():
    """J = 0: every spin is the driven, damped single spin; correlations never build up."""
    model = Model(Delta=1.3, Omega=0.7, J=0.0)
    res = mfqf.evolve(model, lattice.hypercubic(6, 2), 40.0)
    assert res.converged
    np.testing.assert_allclose(res.mu[-1], single_spin_steady_state(model), atol=1e-7)
    assert np.abs(res.eta).max() == 0.0
