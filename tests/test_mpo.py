"""MPO solver (ddlib.mpo) against exact Lindblad dynamics and closed forms."""

import dataclasses
import json

import numpy as np
import pytest
import qutip
import scipy.linalg
from badinput import bad_input_test, case
from systems import exact_dynamics, free_rows, qutip_rho, site_mu, site_op

from ddlib import Model, exact, lattice, mpo
from ddlib.model import liouvillian, single_spin_steady_state
from ddlib.results import SteadySummary

EXACT = mpo.MPOOptions(cutoff=0.0)  # no truncation beyond χ
SIGMAS = (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Every test writes its checkpoints to a fresh cache: a rerun never resumes a finished
    run of an earlier session (which would skip the code under test)."""
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("coupling", ["xy", "ising"])
def test_generators_are_the_qutip_liouvillian_in_the_pauli_basis(coupling):
    """Two spins: ℓ⊗1 + 1⊗ℓ + ℓ⁽²⁾ is QuTiP's superoperator, rewritten on Pauli coefficients."""
    model = Model(Delta=0.8, Omega=0.6, J=1.7, Gamma=1.3, coupling=coupling)
    lat = lattice.chain(2, periodic=False)
    ell, ell2 = mpo.pauli_generators(model)
    ours = np.kron(ell, np.eye(4)) + np.kron(np.eye(4), ell) + ell2
    # columns of T: vec(σ^a ⊗ σ^b / 4) in QuTiP's column-stacking convention
    paulis = [qutip.qeye(2), *SIGMAS]
    T = np.array([qutip.operator_to_vector(qutip.tensor(a, b) / 4).full().ravel()
                  for a in paulis for b in paulis]).T
    L = liouvillian(model, lat).full()
    theirs = np.linalg.solve(T, L @ T)
    assert np.abs(theirs.imag).max() < 1e-12  # Hermiticity: real generator
    np.testing.assert_allclose(ours, theirs.real, atol=1e-12)
    assert np.abs(ours[0]).max() == 0  # trace (the identity coefficient) is conserved


@pytest.mark.parametrize("lat, model", [
    (lattice.chain(6, periodic=False), Model(Delta=1.0, Omega=0.7, J=1.3)),
    (lattice.chain(5, periodic=False), Model(Delta=0.5, Omega=0.9, J=1.5, coupling="ising")),
    (lattice.cylinder(3, 2), Model(Delta=1.2, Omega=0.5, J=1.0)),
    (lattice.cylinder(2, 3), Model(Delta=1.2, Omega=0.5, J=1.0)),  # periodic y: non-local bond
], ids=["chain6-xy", "chain5-ising", "cyl3x2", "cyl2x3"])
def test_order4_evolution_matches_exact_lindblad_dynamics(lat, model):
    """At full bond dimension and δt = 0.05 the fourth-order MPO evolution reproduces
    QuTiP's mesolve to 1e-6 at every recorded time and every site; the final ρ too."""
    ev = mpo.evolve(model, lat, 64, 0.05, 2.0, order=4,
                    options=mpo.MPOOptions(cutoff=0.0, record_every=0.25))
    mu, rho = exact_dynamics(model, lat, ev.times)
    assert np.abs(ev.mu_sites - mu).max() < 1e-6
    np.testing.assert_allclose(ev.mu_center, mu[:, ev.center_sites].mean(1), atol=1e-6)
    ours = mpo.density_matrix(ev.state)
    assert np.abs(ours - ours.conj().T).max() < 1e-12  # Hermitian by construction
    assert np.abs(ours - rho).max() < 1e-6
    np.testing.assert_allclose(ev.trace, 1.0, atol=1e-12)  # gates conserve tr ρ
    assert ev.truncation_error[-1] < 1e-20


def test_density_matrix_of_ten_spins_fits_in_memory_and_is_the_decayed_state():
    """Without drive, every spin decays to |↓⟩ and stays there: the dense ρ of 10 sites
    (4^10 Pauli coefficients, built one site at a time) is |↓…↓⟩⟨↓…↓|."""
    ev = mpo.evolve(Model(Delta=1.0, Omega=0.0, J=0.7), lattice.chain(10, periodic=False), 8,
                    0.25, 0.5)
    rho = mpo.density_matrix(ev.state)
    down = np.zeros(2**10)
    down[-1] = 1.0  # basis (|↑⟩, |↓⟩): |↓…↓⟩ is the last state
    np.testing.assert_allclose(rho, np.outer(down, down), atol=1e-12)


@pytest.mark.parametrize("lat", [
    lattice.cylinder(3, 2),
    pytest.param(lattice.cylinder(4, 2), marks=pytest.mark.slow)], ids=["cyl3x2", "cyl4x2"])
def test_column_route_gives_the_state_of_the_restoring_route_and_of_exact_dynamics(lat):
    """The column routing of a cylinder's far bonds (pairs of columns gated together, columns
    left reversed) and the one-gate-at-a-time swap-and-restore route give the same
    magnetizations, correlations and final ρ to 1e-6 at χ = 64 (exact for 6 sites, discarded
    weight ~1e-13 for 8), and both are
    QuTiP's mesolve to 1e-6."""
    model = Model(Delta=1.75, Omega=0.5, J=1.0)
    runs = {route: mpo.evolve(model, lat, 64, 0.05, 1.0, options=mpo.MPOOptions(
        cutoff=0.0, record_every=0.5, swap_route=route)) for route in ("columns", "restore")}
    mu, rho = exact_dynamics(model, lat, runs["columns"].times)
    for ev in runs.values():
        assert np.abs(ev.mu_sites - mu).max() < 1e-6
        if lat.N <= 6:  # a dense ρ from 4^N Pauli strings
            assert np.abs(mpo.density_matrix(ev.state) - rho).max() < 1e-6
    a, b = (runs[r].correlations.eta for r in ("columns", "restore"))
    assert np.nanmax(np.abs(a - b)) < 1e-6


def test_column_route_meets_every_pair_in_fewer_swaps_and_keeps_columns_contiguous():
    """The x-bonds between the two columns of a 2 × 4 cylinder (positions 0–3 and 4–7 of the
    snake, bond k at distance 2k+1): 24 swaps and 28 splits one gate at a time, 12 swaps
    and 16 splits routed together, after which each column is reversed in place; the next
    application (mirrored again) brings them back. Two columns in the same orientation (the
    left one reversed) are interleaved and restored, also in 16 splits."""
    lat = lattice.cylinder(2, 4)
    model = Model(Delta=1.75, Omega=0.5, J=1.0)
    rng = np.random.default_rng(0)
    mu = rng.uniform(-0.5, 0.5, (8, 3))
    x_layer = next(k for k, layer in enumerate(mpo._layers(lat))
                   if all(lat.coords[lat.bonds[b][0], 0] != lat.coords[lat.bonds[b][1], 0]
                          for b in layer))
    counts = {}
    for route in ("restore", "columns"):
        state = mpo._PauliMPS.product(mu, 16, 0.0, 0.3)
        stepper = mpo._Stepper(model, lat, 0.1, 2, 0.3, route)
        stepper.sweep(state, x_layer, 0.1)
        counts[route] = (state.swaps, state.splits)
        if route == "columns":
            assert list(state.order) == [3, 2, 1, 0, 7, 6, 5, 4]
            stepper.sweep(state, x_layer, 0.1)
            assert list(state.order) == list(range(8))
            state.order[:4] = state.order[:4][::-1].copy()  # same orientation: interleave
            state.position = np.argsort(state.order)
            before = (state.swaps, state.splits)
            stepper.sweep(state, x_layer, 0.1)
            assert (state.swaps - before[0], state.splits - before[1]) == (12, 16)
            assert list(state.order) == [3, 2, 1, 0, 4, 5, 6, 7]
    assert counts == {"restore": (24, 28), "columns": (12, 16)}


def _trotter_errors(order, dts, model, lat, t_final):
    L = liouvillian(model, lat).full()
    N = lat.N
    down = qutip.tensor([qutip.basis(2, 1)] * N)
    rho0 = qutip.operator_to_vector(down * down.dag()).full().ravel()


    rho_t = qutip.vector_to_operator(qutip.Qobj(scipy.linalg.expm(L * t_final) @ rho0,
                                                dims=[[[2] * N, [2] * N], [1]]))
    exact = site_mu(rho_t, N)
    return np.array([np.abs(mpo.evolve(model, lat, 64, dt, t_final, order, options=EXACT)
                            .mu_sites[-1] - exact).max() for dt in dts])


@pytest.mark.parametrize("order", [2, 4])
def test_trotter_error_slope_is_the_order(order):
    """Global error ∝ δt^p: the fitted log-log slope is 2 for S₂ and 4 for Suzuki's S₄
    (reference: e^{tℒ} of the full Liouvillian, N = 4)."""
    model = Model(Delta=1.0, Omega=0.7, J=1.3)
    lat = lattice.chain(4, periodic=False)
    dts = np.array([0.2, 0.1, 0.05])
    err = _trotter_errors(order, dts, model, lat, 1.0)
    slope = np.polyfit(np.log(dts), np.log(err), 1)[0]
    assert abs(slope - order) < 0.2, (slope, err)


def test_truncation_error_is_reported_and_controls_the_accuracy():
    """Below the exact bond dimension (256 here) the discarded weight w is positive, recorded
    cumulatively, the error against exact dynamics shrinks as χ grows and stays within ~10 √w
    (the amplitude a weight w can move)."""
    model = Model(Delta=1.5, Omega=0.5, J=2.0)
    lat = lattice.chain(8, periodic=False)
    times = np.arange(0, 2.0 + 1e-9, 0.5)
    mu, _ = exact_dynamics(model, lat, times)
    errors, weights = [], []
    for chi in (4, 8, 16):
        ev = mpo.evolve(model, lat, chi, 0.05, 2.0,
                        options=mpo.MPOOptions(cutoff=0.0, record_every=0.5))
        assert ev.max_bond.max() <= chi
        assert np.all(np.diff(ev.truncation_error) >= 0)
        errors.append(np.abs(ev.mu_sites - mu).max())
        weights.append(ev.truncation_error[-1])
    assert weights[0] > weights[1] > weights[2] and weights[0] > 1e-6
    assert errors[0] > errors[1] > errors[2]
    assert np.all(np.array(errors) < 10 * np.sqrt(weights))
    assert errors[2] < 1e-3


def test_pauli_scale_is_a_gauge_that_helps_truncation():
    """The weight s of non-identity Pauli components changes nothing at full χ, and at
    truncated χ the default s = 0.3 is far more accurate than the plain basis (s = 1)."""
    model = Model(Delta=1.5, Omega=0.5, J=2.0)
    small = lattice.chain(6, periodic=False)
    mu, _ = exact_dynamics(model, small, np.array([0.0, 1.0]))
    ev = mpo.evolve(model, small, 64, 0.05, 1.0, options=mpo.MPOOptions(cutoff=0, pauli_scale=1))
    assert np.abs(ev.mu_sites[-1] - mu[-1]).max() < 1e-6
    lat = lattice.chain(8, periodic=False)
    mu, _ = exact_dynamics(model, lat, np.array([0.0, 2.0]))
    err = {s: np.abs(mpo.evolve(model, lat, 8, 0.05, 2.0, options=mpo.MPOOptions(
        cutoff=0.0, pauli_scale=s, record_every=2.0)).mu_sites[-1] - mu[-1]).max()
        for s in (1.0, 0.3)}
    assert err[0.3] < err[1.0] / 4


def test_two_point_correlations_match_exact():
    """η_ab(R', j) = ⟨σᵃ_{R'} σᵇ_j⟩ − μ_a μ_b (Eq. 7) against the exact ρ(t), and Σ_ab is
    their sum over j ≠ R'."""
    model = Model(Delta=1.5, Omega=0.5, J=2.0)
    lat = lattice.chain(6, periodic=False)
    ev = mpo.evolve(model, lat, 64, 0.05, 1.5, options=EXACT)
    _, rho = exact_dynamics(model, lat, np.array([0.0, 1.5]))
    rho = qutip.Qobj(rho, dims=[[2] * 6, [2] * 6])
    c = ev.correlations
    assert c.ref_site in ev.center_sites
    mu = site_mu(rho, 6)
    for j in range(6):
        if j == c.ref_site:
            assert np.isnan(c.eta[:, :, j]).all()
            continue
        for a in range(3):
            for b in range(3):
                op = site_op(SIGMAS[a], c.ref_site, 6) * site_op(SIGMAS[b], j, 6)
                exact = qutip.expect(op, rho) - mu[c.ref_site][a] * mu[j][b]
                assert abs(c.eta[a, b, j] - exact) < 1e-6
    np.testing.assert_allclose(c.total_correlation, np.nansum(c.eta, axis=2))
    assert c.sigma_xx == c.total_correlation[0, 0]
    assert np.isfinite(c.lambda_xx)
    assert list(c.distance) == [abs(j - c.ref_site) for j in range(6)]


@pytest.mark.parametrize("system", free_rows("mpo"), ids=lambda s: s.name)
def test_uncoupled_spins_relax_to_the_single_spin_steady_state(system):
    """J = 0 (the site average against the closed form: tests/test_systems.py): every site,
    edges included, reaches the closed-form Bloch vector (Eqs. 4–6 with J = 0), no
    correlations build up, and the run stops once stationary."""
    tol, params = system.solvers["mpo"]
    ss = mpo.steady_state(system.model, system.lattice, params["chi"], dt=0.1, t_max=60.0,
                          options=mpo.MPOOptions(tol=1e-9, window=2.0, record_every=0.5))
    assert ss.converged, ss.message
    target = single_spin_steady_state(system.model)
    np.testing.assert_allclose(ss.mu_sites, np.tile(target, (system.lattice.N, 1)), atol=tol)
    assert ss.evolution.times[-1] < 60.0  # stopped once stationary
    assert np.abs(ss.correlations.eta[~np.isnan(ss.correlations.eta)]).max() < 1e-8


def test_steady_state_matches_the_exact_steady_state():
    """Open chain of 6 at the paper's JZ = 4 (Δ = 2): the state reached by evolution agrees
    with ddlib.exact's solution of ℒρ = 0 (site-averaged μ), and its Trotter error shrinks
    as δt⁴ (×16 from δt = 0.2 to 0.1); at δt = 0.25 it is below 1e-4."""
    model = Model(Delta=2.0, Omega=0.5, J=2.0)
    lat = lattice.chain(6, periodic=False)
    target = exact.steady_state(model, lat).mu
    opts = mpo.MPOOptions(cutoff=0.0, record_every=1.0, tol=1e-8)
    err = {}
    for dt in (0.25, 0.2, 0.1):
        ss = mpo.steady_state(model, lat, 64, dt=dt, t_max=40.0, options=opts)
        assert ss.converged, ss.message
        err[dt] = np.abs(ss.mu_sites.mean(0) - target).max()
    assert err[0.1] < 1e-5
    assert 10 < err[0.2] / err[0.1] < 22
    assert err[0.25] < 1e-4  # the "paper" profile's δt


def test_steady_state_reports_non_convergence():
    model = Model(Delta=1.5, Omega=0.5, J=2.0)
    ss = mpo.steady_state(model, lattice.chain(6, periodic=False), 16, dt=0.1, t_max=1.0)
    assert not ss.converged
    assert "NOT stationary" in ss.message


@pytest.mark.slow
def test_long_chain_centre_is_translation_invariant_and_converges_in_chi():
    """N = 24 chain at the paper's JZ = 4, Ω = 0.5: the central region has no edge effects
    (the mirror images 11 and 12 agree, up to the truncation that breaks the mirror symmetry)
    and μ_center is converged in χ to the 1e-3 level."""
    model = Model(Delta=2.0, Omega=0.5, J=2.0)
    lat = lattice.chain(24, periodic=False)
    opts = mpo.MPOOptions(record_every=1.0)
    runs = [mpo.evolve(model, lat, chi, 0.1, 4.0, options=opts) for chi in (16, 32)]
    mu = runs[1].mu_sites[-1]
    assert np.abs(mu[11] - mu[12]).max() < 5e-4
    assert np.abs(runs[0].mu_center - runs[1].mu_center).max() < 2e-3
    np.testing.assert_allclose(runs[1].trace, 1.0, atol=1e-3)


@pytest.mark.parametrize("method", ["svd:eig", "rsvd"])
def test_faster_splits_are_as_accurate(method):
    """svd_method="svd:eig" and "rsvd" (faster) are as close to exact dynamics as LAPACK's
    SVD at truncated χ, with the same discarded weight (χ ≥ 12: "rsvd" sketches χ + 10
    directions of the 4χ-wide two-site matrices)."""
    model = Model(Delta=1.5, Omega=0.5, J=2.0)
    lat = lattice.chain(8, periodic=False)
    mu, _ = exact_dynamics(model, lat, np.array([0.0, 1.0, 2.0]))
    for chi in (12, 16):
        runs = [mpo.evolve(model, lat, chi, 0.1, 2.0, options=mpo.MPOOptions(
            svd_method=m, record_every=1.0)) for m in ("svd", method)]
        err = [np.abs(r.mu_sites - mu).max() for r in runs]
        assert err[1] < 1.5 * err[0]
        np.testing.assert_allclose(runs[1].truncation_error, runs[0].truncation_error,
                                   rtol=0.05, atol=1e-9)


def test_randomized_split_discards_the_optimal_weight_and_reports_it_exactly():
    """For a 1200 × 1200 matrix with singular values e^{-k/40} (the (4χ)² two-site matrix at
    the paper's χ = 300), the rank-300 randomized split is within 2 % of the optimal
    (Eckart–Young) discarded weight, the weight it reports is ‖θ − UV‖²/‖θ‖², the left
    factor is an isometry (the orthogonality centre moves right) and s is kept in the right."""
    rng = np.random.default_rng(3)
    n, chi = 1200, 300
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    s = np.exp(-np.arange(n) / 40)
    theta = (U * s) @ V.T
    optimal = (s[chi:] ** 2).sum() / (s**2).sum()
    for absorb in ("right", "left"):
        left, right, weight = mpo._randomized_split(theta, chi, 0.0, absorb, rng)
        assert left.shape == (n, chi) and right.shape == (chi, n)
        actual = np.linalg.norm(theta - left @ right) ** 2 / np.linalg.norm(theta) ** 2
        assert weight == pytest.approx(actual, rel=1e-6)
        assert optimal <= weight < 1.02 * optimal
        iso = left.T @ left if absorb == "right" else right @ right.T
        np.testing.assert_allclose(iso, np.eye(chi), atol=1e-12)
    _, right, weight = mpo._randomized_split(theta, chi, 1e-6, "right", rng)
    keep = right.shape[0]  # the cutoff keeps the fewest values that discard ≤ 1e-6
    assert keep < chi and weight <= 1e-6 < (s[keep - 1:] ** 2).sum() / (s**2).sum()


def test_fourth_order_step_fuses_half_layers():
    """Suzuki's S₄ = S₂(pδt)² S₂((1−4p)δt) S₂(pδt)² for a two-layer chain: neighbouring
    half-layers are merged, within a step and across steps, into 10 layer sweeps per step
    (S₂: 2), whose times add up to δt per layer."""
    for order, per_step in ((2, 2), (4, 10)):
        seq = mpo._trotter_sequence(2, order, 0.25, 8)
        assert len(seq) == per_step * 8 + 1
        assert all(a[0] != b[0] for a, b in zip(seq[:-1], seq[1:], strict=True))
        for layer in (0, 1):
            assert sum(t for k, t in seq if k == layer) == pytest.approx(8 * 0.25)


def test_blas_threads_are_limited_while_gates_run_and_restored_after(monkeypatch):
    """MPOOptions.blas_threads sets the BLAS thread count for the Trotter loop only (the
    process's own setting is back afterwards), and leaves the physics unchanged."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    seen = []
    advance = mpo._Stepper.advance
    monkeypatch.setattr(mpo._Stepper, "advance",
                        lambda self, state, n: (seen.append(blas_threads()),
                                                advance(self, state, n))[1])
    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(4, periodic=False)
    with threadpool_limits(2, user_api="blas"):
        runs = {b: mpo.evolve(model, lat, 16, 0.1, 0.5, options=mpo.MPOOptions(blas_threads=b))
                for b in (1, None)}
        assert blas_threads() == {2}
    assert seen[:5] == [{1}] * 5 and seen[5:] == [{2}] * 5
    np.testing.assert_allclose(runs[1].mu_sites, runs[None].mu_sites, atol=1e-12)


# --------------------------------------------------------------------------------------------
# fast route, warm starts, checkpoints, several points, one solver shape
# --------------------------------------------------------------------------------------------

TIGHT = mpo.MPOOptions(cutoff=0.0, tol=1e-7, record_every=0.4, warmup_chi=8)


@pytest.mark.parametrize("lat, chi", [
    (lattice.chain(6, periodic=False), 64),
    pytest.param(lattice.cylinder(3, 2), 64, marks=pytest.mark.slow)], ids=["chain6", "cyl3x2"])
def test_fast_route_reaches_the_steady_state_of_plain_evolution_and_of_qutip(lat, chi):
    """The staged route (χ = 8 at second order and δt = 0.5, then χ = 8, 16, 32 and 64 at the
    final fourth-order δt = 0.2) ends where plain evolution from all spins down ends, to 1e-4
    per site (both stopped at |Δμ| < 1e-7 over 2/Γ), and both agree with QuTiP's exact
    steady state ℒρ = 0 (the residual Trotter error of δt = 0.2 is ~2e-5)."""
    model = Model(Delta=2.0, Omega=0.5, J=1.0)
    plain = mpo.steady_state(model, lat, chi, dt=0.2, t_max=60.0, options=TIGHT, route="plain")
    fast = mpo.steady_state(model, lat, chi, dt=0.2, t_max=60.0, options=TIGHT)
    assert plain.converged and fast.converged, (plain.message, fast.message)
    assert [g["chi"] for g in fast.stages] == [8, 8, 16, 32, 64]
    assert [g["order"] for g in fast.stages] == [2, 4, 4, 4, 4]
    assert fast.stages[-1]["t"] < plain.stages[-1]["t"]  # less time at the largest χ
    assert np.abs(fast.mu_sites - plain.mu_sites).max() < 1e-4
    target = site_mu(qutip_rho(model, lat), lat.N)
    assert np.abs(fast.mu_sites - target).max() < 1e-4
    assert fast.drift < 1e-5 and "stationary" in fast.message


def test_warm_start_from_a_neighbouring_detuning_reaches_the_same_state():
    """initial= a SteadyState at Δ = 1.6 (its MPS), its SteadySummary (a product state of
    its central μ) and the cold start all end at the Δ = 2 steady state (the exact solution
    of ℒρ = 0 to 1e-4, the Trotter error of δt = 0.2); the MPS start needs the least time."""
    model, lat = Model(Delta=2.0, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    near = mpo.steady_state(dataclasses.replace(model, Delta=1.6), lat, 64, dt=0.2, t_max=60.0,
                            options=TIGHT)
    target = exact.steady_state(model, lat).mu
    times = {}
    for name, initial in (("mps", near), ("summary", near.summary()), ("cold", None)):
        ss = mpo.steady_state(model, lat, 64, dt=0.2, t_max=60.0, options=TIGHT,
                              initial=initial)
        assert ss.converged, ss.message
        assert np.abs(ss.mu_sites.mean(0) - target).max() < 1e-4, name
        times[name] = sum(g["t"] for g in ss.stages)
    assert times["mps"] < times["cold"]
    with pytest.raises(TypeError, match="initial"):
        mpo.steady_state(model, lat, 16, options=TIGHT, initial={"mu": (0, 0, -1)})


def test_a_split_survives_an_svd_that_does_not_converge(monkeypatch):
    """LAPACK's gesdd can fail to converge on a valid matrix (it did once in a 12 × 4 run at
    χ = 128); the randomized split then takes gesvd and returns the same factors."""
    theta = np.random.default_rng(1).standard_normal((64, 64)) @ np.diag(0.7 ** np.arange(64))
    U0, V0, w0 = mpo._randomized_split(theta, 8, 0.0, "right", np.random.default_rng(2))
    real, calls = np.linalg.svd, []

    def failing(a, **kw):
        calls.append(a.shape)
        if len(calls) == 1:
            raise np.linalg.LinAlgError("SVD did not converge")
        return real(a, **kw)

    monkeypatch.setattr(mpo.np.linalg, "svd", failing)
    U1, V1, w1 = mpo._randomized_split(theta, 8, 0.0, "right", np.random.default_rng(2))
    assert len(calls) == 1  # gesvd (scipy) took over
    np.testing.assert_allclose(U1 @ V1, U0 @ V0, atol=1e-12)
    assert w1 == pytest.approx(w0, rel=1e-10)


class _Killed(RuntimeError):
    pass


def _kill_after(monkeypatch, calls):
    """Make the Trotter loop raise after ``calls`` chunks (a run killed midway)."""
    advance, count = mpo._Stepper.advance, [0]

    def dying(self, state, n):
        count[0] += 1
        if count[0] > calls:
            raise _Killed
        return advance(self, state, n)

    monkeypatch.setattr(mpo._Stepper, "advance", dying)


def test_killed_evolution_resumes_from_its_checkpoint_to_the_same_result(monkeypatch, tmp_path):
    """An evolution (rsvd splits, so the random generator's state matters too) killed after
    7 of 12 recorded chunks resumes from its last checkpoint and ends exactly where an
    uninterrupted run ends; the checkpoint is an npz that loads without pickle."""
    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(10, periodic=False)
    opts = mpo.MPOOptions(svd_method="rsvd", record_every=0.2, checkpoint_every=0.0)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "uninterrupted"))
    whole = mpo.evolve(model, lat, 12, 0.1, 2.4, options=opts)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "killed"))
    with monkeypatch.context() as m:
        _kill_after(m, 7)
        with pytest.raises(_Killed):
            mpo.evolve(model, lat, 12, 0.1, 2.4, options=opts)
    files = list((tmp_path / "killed" / "mpo-checkpoints").glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as f:
        assert json.loads(str(f["meta"]))["n"] == 14 and not json.loads(str(f["meta"]))["done"]
    resumed = mpo.evolve(model, lat, 12, 0.1, 2.4, options=opts)
    assert "resumed" in resumed.message
    np.testing.assert_array_equal(resumed.times, whole.times)
    np.testing.assert_allclose(resumed.mu_sites, whole.mu_sites, atol=1e-13)
    np.testing.assert_allclose(resumed.truncation_error, whole.truncation_error, rtol=1e-10)


def test_killed_steady_state_resumes_in_its_stage(monkeypatch, tmp_path):
    """The fast route killed in a later stage restarts from that stage's checkpoint (the
    earlier stages are not redone) and reaches the uninterrupted result."""
    model, lat = Model(Delta=2.0, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    opts = dataclasses.replace(TIGHT, tol=1e-6, checkpoint_every=0.0, record_every=0.5)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "a"))
    whole = mpo.steady_state(model, lat, 32, dt=0.1, t_max=40.0, options=opts)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "b"))
    chunks = sum(round(g["t"] / 0.5) for g in whole.stages)  # every stage records each 0.5
    with monkeypatch.context() as m:
        _kill_after(m, chunks - 3)
        with pytest.raises(_Killed):
            mpo.steady_state(model, lat, 32, dt=0.1, t_max=40.0, options=opts)
    resumed = mpo.steady_state(model, lat, 32, dt=0.1, t_max=40.0, options=opts)
    assert resumed.stages[-1]["resumed"] and not any(g["resumed"] for g in resumed.stages[:-1])
    assert [g["t"] for g in resumed.stages] == [g["t"] for g in whole.stages]
    np.testing.assert_allclose(resumed.mu_sites, whole.mu_sites, atol=1e-12)


def test_finished_checkpoints_are_deleted_unless_kept(tmp_path):
    """A complete run (evolve, and the fast route's stages) leaves no checkpoint behind;
    with keep_checkpoints=True the last one stays and a rerun returns from it."""
    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    where = tmp_path / "cache" / "mpo-checkpoints"
    opts = mpo.MPOOptions(record_every=0.5, checkpoint_every=0.0, tol=1e-3)
    mpo.evolve(model, lat, 16, 0.1, 1.0, options=opts)
    mpo.steady_state(model, lat, 16, dt=0.1, t_max=20.0, options=opts)
    assert not list(where.glob("*"))
    kept = dataclasses.replace(opts, keep_checkpoints=True)
    first = mpo.steady_state(model, lat, 16, dt=0.1, t_max=20.0, options=kept)
    assert len(list(where.glob("*.npz"))) == 1
    again = mpo.steady_state(model, lat, 16, dt=0.1, t_max=20.0, options=kept)
    assert again.stages[-1]["resumed"]
    np.testing.assert_array_equal(again.mu_sites, first.mu_sites)


def test_a_kept_checkpoint_survives_an_edit_outside_the_solver(monkeypatch, tmp_path):
    """Checkpoint keys hold the code of ddlib.mpo and the modules it imports, not of the whole
    package: an hours-long ladder resumes after an edit of, say, the book's support code (here
    the package fingerprint is made to change and mpo's to stay)."""
    from ddlib import cache

    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    kept = mpo.MPOOptions(record_every=0.5, checkpoint_every=0.0, tol=1e-3,
                          keep_checkpoints=True)
    first = mpo.steady_state(model, lat, 16, dt=0.1, t_max=20.0, options=kept)
    real = cache._fingerprint
    monkeypatch.setattr(cache, "_fingerprint", lambda modules, root, package: "edited"
                        if modules is None else real(modules, root, package))
    again = mpo.steady_state(model, lat, 16, dt=0.1, t_max=20.0, options=kept)
    assert again.stages[-1]["resumed"]
    np.testing.assert_array_equal(again.mu_sites, first.mu_sites)


def test_a_kept_ladder_is_adopted_after_an_edit_of_the_solver(monkeypatch, tmp_path):
    """After an edit of ddlib.mpo itself (its fingerprint made to change) the keys of a kept
    χ ladder no longer match, but the steady state does not depend on the path: each rung's
    last stage starts from the kept state of the same evolution and runs only until the
    edited code finds it stationary (one stationarity window, instead of the transient),
    ending at the same steady state, itself within 1e-4 of exact diagonalisation. A kept
    state of another detuning is not adopted."""
    from ddlib import cache

    model, lat = Model(Delta=2.0, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    opts = mpo.MPOOptions(record_every=0.5, checkpoint_every=0.0, tol=1e-6, cutoff=0.0,
                          warmup_chi=8, keep_checkpoints=True)
    first = mpo.chi_ladder(model, lat, [8, 16, 32], dt=0.25, t_max=40.0, options=opts)
    real = cache._fingerprint
    monkeypatch.setattr(cache, "_fingerprint", lambda modules, root, package: "edited"
                        if modules is not None and "ddlib.mpo" in modules
                        else real(modules, root, package))
    again = mpo.chi_ladder(model, lat, [8, 16, 32], dt=0.25, t_max=40.0, options=opts)
    for a, b in zip(first, again, strict=True):
        (stage,) = b.stages  # the warm-up stages are not redone
        assert "adopted" in stage, (stage, b.message)
        assert stage["adopted"]["code"] != "edited" and not stage["resumed"]
        assert "kept by code" in b.message and b.converged
        assert stage["t"] <= opts.window + 0.5 < sum(g["t"] for g in a.stages)
        assert np.abs(b.mu_sites - a.mu_sites).max() < 1e-5
    assert np.abs(again[-1].mu_sites.mean(0) - exact.steady_state(model, lat).mu).max() < 1e-4
    other = mpo.steady_state(model.replace(Delta=2.1), lat, 8, dt=0.25, t_max=40.0,
                             options=opts)
    assert not any("adopted" in g for g in other.stages)


def test_chi_ladder_resumes_at_the_interrupted_chi_and_cleans_up(monkeypatch, tmp_path):
    """A χ ladder (8, 16, 32) killed during χ = 32 resumes there from the kept χ = 16 state
    (the finished χ return from their checkpoints) and ends where an uninterrupted ladder
    ends; a complete ladder leaves no checkpoint. Each χ is within 1e-4 of the exact
    steady state once χ is exact (6 sites: χ = 64 is exact, 32 nearly so)."""
    model, lat = Model(Delta=2.0, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    opts = mpo.MPOOptions(record_every=0.5, checkpoint_every=0.0, tol=1e-6, cutoff=0.0,
                          warmup_chi=8)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "a"))
    whole = mpo.chi_ladder(model, lat, [8, 16, 32], dt=0.25, t_max=40.0, options=opts)
    assert not list((tmp_path / "a" / "mpo-checkpoints").glob("*"))
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "b"))
    chunks = sum(round(g["t"] / 0.5) for ss in whole for g in ss.stages)
    with monkeypatch.context() as m:
        _kill_after(m, chunks - 2)
        with pytest.raises(_Killed):
            mpo.chi_ladder(model, lat, [8, 16, 32], dt=0.25, t_max=40.0, options=opts)
    resumed = mpo.chi_ladder(model, lat, [8, 16, 32], dt=0.25, t_max=40.0, options=opts)
    assert all(g["resumed"] for g in resumed[1].stages)  # returned from its checkpoint
    assert resumed[2].stages[-1]["resumed"]
    for a, b in zip(whole, resumed, strict=True):
        np.testing.assert_allclose(b.mu_sites, a.mu_sites, atol=1e-12)
    target = exact.steady_state(model, lat).mu
    assert np.abs(whole[-1].mu_sites.mean(0) - target).max() < 1e-4
    assert not list((tmp_path / "b" / "mpo-checkpoints").glob("*"))


def test_warm_up_stage_never_runs_past_t_max():
    """t_max shorter than the warm-up step: the warm-up evolves t_max, not warmup_dt."""
    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(4, periodic=False)
    ss = mpo.steady_state(model, lat, 32, dt=0.1, t_max=0.3,
                          options=mpo.MPOOptions(warmup_chi=8, warmup_dt=0.5))
    assert all(g["t"] <= 0.3 + 1e-12 for g in ss.stages)


def test_corrupt_or_mismatched_checkpoint_is_ignored_and_recomputed(monkeypatch, tmp_path):
    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(6, periodic=False)
    opts = mpo.MPOOptions(record_every=0.5, checkpoint_every=0.0, keep_checkpoints=True)
    first = mpo.evolve(model, lat, 16, 0.1, 1.0, options=opts)
    (path,) = (tmp_path / "cache" / "mpo-checkpoints").glob("*.npz")
    path.write_bytes(b"not an npz")
    with pytest.warns(UserWarning, match="ignoring checkpoint"):
        again = mpo.evolve(model, lat, 16, 0.1, 1.0, options=opts)
    assert "resumed" not in again.message
    np.testing.assert_allclose(again.mu_sites, first.mu_sites, atol=1e-13)
    with np.load(path, allow_pickle=False) as f:  # a checkpoint whose key differs
        arrays = dict(f)
    meta = json.loads(str(arrays["meta"]))
    meta["key"] = meta["key"].replace("Delta", "Omega")
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.warns(UserWarning, match="parameters differ"):
        mpo.evolve(model, lat, 16, 0.1, 1.0, options=opts)


def test_steady_states_in_worker_processes_equal_the_serial_loop(tmp_path, monkeypatch):
    """Two detunings in two spawned processes (one BLAS thread each) give the serial results
    bit for bit; each point is cached (a second call returns the stored results)."""
    model, lat = Model(Delta=1.0, Omega=0.5, J=2.0), lattice.chain(4, periodic=False)
    opts = mpo.MPOOptions(tol=1e-5, record_every=0.5, checkpoint_every=None)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "serial"))
    serial = mpo.steady_states(model, lat, "Delta", [1.5, 2.5], 16, dt=0.1, t_max=20.0,
                               options=opts)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "parallel"))
    parallel = mpo.steady_states(model, lat, "Delta", [1.5, 2.5], 16, dt=0.1, t_max=20.0,
                                 options=opts, workers=2)
    for a, b in zip(serial, parallel, strict=True):
        assert a.model == b.model and a.converged
        np.testing.assert_array_equal(a.mu_sites, b.mu_sites)
    assert [s.model.Delta for s in serial] == [1.5, 2.5]
    assert serial[0].mu[0] != serial[1].mu[0]
    again = mpo.steady_states(model, lat, "Delta", [1.5, 2.5], 16, dt=0.1, t_max=20.0,
                              options=opts)
    np.testing.assert_array_equal(again[1].mu_sites, parallel[1].mu_sites)


def test_one_solver_shape():
    """options=None is MPOOptions() everywhere; results carry model and lattice, the flags and
    the central trajectory mu (T, 3); the summary is portable and a warm start."""
    model, lat = Model(Delta=1.5, Omega=0.5, J=2.0), lattice.chain(4, periodic=False)
    a = mpo.steady_state(model, lat, 8, dt=0.1, t_max=3.0)
    b = mpo.steady_state(model, lat, 8, dt=0.1, t_max=3.0, options=mpo.MPOOptions())
    np.testing.assert_array_equal(a.mu_sites, b.mu_sites)
    assert a.model == model and a.lattice is lat and a.evolution.model == model
    ev = mpo.evolve(model, lat, 8, 0.1, 1.0)
    assert ev.success and isinstance(ev.message, str) and ev.lattice is lat
    assert ev.mu.shape == (len(ev.times), 3) and ev.mu is ev.mu_center
    s = a.summary()
    assert isinstance(s, SteadySummary) and s.solver == "mpo"
    assert SteadySummary.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    np.testing.assert_allclose(s.mu, a.mu)


def test_memory_estimate_and_refusal():
    """The estimate counts the tensors (bonds capped at 4^k from the ends) and the largest
    split; a χ that cannot fit is refused at once with the estimate and the χ that fits."""
    assert mpo.memory_estimate(4, 1000) == mpo.memory_estimate(4, 16)  # 4², exact at N = 4
    paper = mpo.memory_estimate(200, 300)
    assert 0.5e9 < paper < 0.8e9  # ~0.6 GB: 200 tensors of 4 × 300² doubles
    with pytest.raises(ValueError, match=r"chi = 100000 .*GiB.*largest chi that fits is \d+"):
        mpo.evolve(Model(Delta=1, Omega=0.5, J=1), lattice.chain(200, periodic=False),
                   100_000, 0.1, 1.0)


_M, _C = Model(Delta=1.0, Omega=0.5, J=1.0), lattice.chain(4, periodic=False)
BAD_INPUTS = [
    case(mpo.evolve, _M, _C, 0, 0.1, 1.0, param="chi"),
    case(mpo.evolve, _M, _C, 2.5, 0.1, 1.0, param="chi"),
    case(mpo.evolve, _M, _C, 8, -0.1, 1.0, param="dt"),
    case(mpo.evolve, _M, _C, 8, float("nan"), 1.0, param="dt"),
    case(mpo.evolve, _M, _C, 8, 0.1, 0.33, param="t_final"),
    case(mpo.evolve, _M, _C, 8, 0.1, 1.0, 3, param="order"),
    case(mpo.evolve, "xy", _C, 8, 0.1, 1.0, param="model"),
    case(mpo.evolve, _M, lattice.fully_connected(3), 8, 0.1, 1.0, param="lattice"),
    case(mpo.evolve, _M, _C, 8, 0.1, 1.0, options={"cutoff": 0}, param="options"),
    case(mpo.evolve, _M, lattice.chain(400, periodic=False), 10**6, 0.1, 1.0, param="chi"),
    case(mpo.steady_state, _M, _C, 8, 0.1, 1.05, param="t_max"),
    case(mpo.steady_state, _M, _C, 8, "0.1", param="dt"),
    case(mpo.steady_state, _M, _C, -1, param="chi"),
    case(mpo.steady_state, _M, _C, 8, route="slow", param="route"),
    case(mpo.steady_state, _M, _C, 8, initial=(0.0, 0.0, -1.0), param="initial"),
    case(mpo.steady_states, _M, _C, "Kappa", [1.0], 8, param="param"),
    case(mpo.steady_states, _M, _C, "Delta", [], 8, param="values"),
    case(mpo.steady_states, _M, _C, "Delta", [1.0], 8, workers=0, param="workers"),
    case(mpo.steady_states, _M, _C, "Delta", [1.0], -8, param="chi"),
    case(mpo.MPOOptions, cutoff=-1.0, param="cutoff"),
    case(mpo.MPOOptions, record_every=0.0, param="record_every"),
    case(mpo.MPOOptions, tol=float("inf"), param="tol"),
    case(mpo.MPOOptions, svd_method="qr", param="svd_method"),
    case(mpo.MPOOptions, blas_threads=0, param="blas_threads"),
    case(mpo.MPOOptions, blas_threads=1.5, param="blas_threads"),
    case(mpo.MPOOptions, warmup_chi=0, param="warmup_chi"),
    case(mpo.MPOOptions, warmup_dt=0.0, param="warmup_dt"),
    case(mpo.MPOOptions, checkpoint_every=-1.0, param="checkpoint_every"),
    case(mpo.MPOOptions, keep_checkpoints="yes", param="keep_checkpoints"),
    case(mpo.MPOOptions, swap_route="snake", param="swap_route"),
    case(mpo.MPOOptions, backend="jax", param="backend"),
    case(mpo.evolve, _M, _C, 8, 0.1, 1.0, progress="yes", param="progress"),
    case(mpo.evolve, _M, _C, 8, 0.1, 1.0, stop_when_stationary=1, param="stop_when_stationary"),
    case(mpo.steady_state, _M, _C, 8, progress=None, param="progress"),
    case(mpo.chi_ladder, _M, _C, [16, 8], param="chis"),
    case(mpo.chi_ladder, _M, _C, [], param="chis"),
    case(mpo.pauli_generators, "xy", param="model"),
    case(mpo.memory_estimate, 0, 8, param="N"),
    case(mpo.density_matrix, np.ones(4), param="state"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


# --- array backends (MPOOptions.backend) -------------------------------------------------------

def test_a_gpu_backend_that_cannot_load_is_refused_before_any_work(monkeypatch):
    """A library that is missing (or finds no device) stops the call at the argument check,
    naming the backend; the numpy default needs nothing more."""
    import builtins

    real = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    with pytest.raises(ValueError, match="backend 'cupy' cannot be used here"):
        mpo.evolve(_M, _C, 8, 0.1, 1.0, options=mpo.MPOOptions(backend="cupy"))


def test_the_backend_is_not_part_of_cache_and_checkpoint_keys():
    """Runs on a GPU and on the CPU share caches and checkpoints: the key of the options is
    the same for every backend, and differs for a field that changes the physics."""
    from ddlib.cache import make_key

    keys = {b: make_key("k", options=mpo.MPOOptions(backend=b)) for b in mpo.BACKENDS}
    assert len(set(keys.values())) == 1
    assert make_key("k", options=mpo.MPOOptions(tol=1e-3)) != keys["numpy"]


def test_torch_tensors_evolve_like_numpy_ones_where_nothing_is_truncated():
    """The same gates, QRs and randomized splits on torch tensors (the GPU path; here on the
    CPU where no GPU is seen) reproduce the numpy evolution of a 2 × 4 cylinder to rounding
    when χ keeps every singular value. Skipped without PyTorch (not a ddlib requirement)."""
    pytest.importorskip("torch")
    lat = lattice.cylinder(2, 4)
    runs = [mpo.evolve(_M, lat, 300, 0.1, 0.5, options=mpo.MPOOptions(
        svd_method="rsvd", backend=b, checkpoint_every=None)) for b in ("numpy", "torch")]
    assert runs[0].truncation_error[-1] < 1e-12
    np.testing.assert_allclose(runs[1].mu_sites, runs[0].mu_sites, atol=1e-12)
    np.testing.assert_allclose(runs[1].correlations.eta, runs[0].correlations.eta, atol=1e-12)
