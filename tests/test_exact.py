"""Exact steady states of small clusters (ddlib.exact), checked against independent routes.

References: QuTiP's steady state of the full 4^N Liouvillian (ddlib.model.liouvillian), the
closed-form single-spin Bloch vector, qutip.piqs in the Dicke basis, the full Liouvillian's
spectrum, and mean field for a large fully connected cluster.
"""

import importlib.util

import numpy as np
import pytest
import qutip
from badinput import bad_input_test, case
from systems import free_rows, qutip_rho, single_spin_rates, site_mu

from ddlib import Model, lattice
from ddlib.exact import (
    GapOptions,
    ResourceError,
    SteadyStateOptions,
    bimodality_index,
    gap_scan,
    liouvillian_gap,
    memory_estimate,
    scan,
    steady_state,
)
from ddlib.model import liouvillian, single_spin_steady_state

SMALL = [lattice.fully_connected(4), lattice.chain(5), lattice.chain(4, periodic=False),
         lattice.cluster2d(5)]
# N = 6 (QuTiP needs 10–30 s for each): FC, a 2D cluster and the cylinder; the rings and
# open chains are covered at N = 4, 5 above, both couplings everywhere at N <= 5
SIX = [(lattice.fully_connected(6), "xy"), (lattice.cluster2d(6), "ising"),
       (lattice.cylinder(3, 2), "xy")]


def _qutip_rho(model, lat):
    return qutip_rho(model, lat).full()


def _model(coupling, lat, JZ=3.0):
    return Model(Delta=1.3, Omega=0.6, J=JZ / lat.Z, coupling=coupling)


# ----------------------------------------------------------------------------- vs full QuTiP

@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", SMALL, ids=repr)
def test_steady_state_equals_full_liouvillian_solution(lat, coupling):
    model = _model(coupling, lat)
    s = steady_state(model, lat)
    assert s.converged, s.message
    np.testing.assert_allclose(s.rho(), _qutip_rho(model, lat), atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("lat, coupling", SIX, ids=lambda v: repr(v))
def test_six_sites_every_lattice_kind_equals_full_liouvillian(lat, coupling):
    model = _model(coupling, lat)
    s = steady_state(model, lat)
    rho = _qutip_rho(model, lat)
    np.testing.assert_allclose(s.rho(), rho, atol=1e-10)
    # the site-averaged magnetisation, from the full ρ by QuTiP's own operators
    np.testing.assert_allclose(s.mu, site_mu(rho, lat.N).mean(axis=0), atol=1e-10)


def test_fully_connected_permutation_route_agrees_with_orbit_route():
    """S_N orbits of pairs and the symmetric-tensor (4-mode boson) space are the same space."""
    lat = lattice.fully_connected(6)
    model = Model(Delta=2.0, Omega=0.5, J=1.2)
    perm = steady_state(model, lat)
    orb = steady_state(model, lat, options=SteadyStateOptions(route="orbits"))
    assert perm.route == "permutation" and orb.route == "orbits"
    assert perm.n_unknowns == orb.n_unknowns == 84          # C(6 + 3, 3)
    np.testing.assert_allclose(perm.rho(), orb.rho(), atol=1e-12)
    np.testing.assert_allclose(perm.px, orb.px, atol=1e-12)


def test_complete_graph_cluster_equals_fully_connected():
    """cluster2d(5) is K5: the orbit route on it must match the FC permutation route."""
    model = Model(Delta=1.7, Omega=0.5, J=0.9)
    a = steady_state(model, lattice.cluster2d(5))
    b = steady_state(model, lattice.fully_connected(5))
    np.testing.assert_allclose(a.mu, b.mu, atol=1e-12)
    np.testing.assert_allclose(a.px, b.px, atol=1e-12)


def test_fully_connected_agrees_with_piqs_in_the_dicke_basis():
    """qutip.piqs (single-precision Lindblad rates) agrees to its own precision."""
    from qutip.piqs.piqs import Dicke, jspin

    N = 6
    model = Model(Delta=1.2, Omega=0.5, J=0.8)
    jx, jy, jz = jspin(N)
    # Σ Δ/2 σᶻ + Ω σˣ − (J/2) Σ_{i<j}(σˣσˣ + σʸσʸ) = Δ Jz + 2Ω Jx − J (Jx² + Jy²) + const
    H = model.Delta * jz + 2 * model.Omega * jx - model.J * (jx * jx + jy * jy)
    rho = qutip.steadystate(Dicke(N, hamiltonian=H, emission=1.0).liouvillian())
    mu = [2 * qutip.expect(op, rho) / N for op in (jx, jy, jz)]
    np.testing.assert_allclose(steady_state(model, lattice.fully_connected(N)).mu, mu, atol=1e-6)


# ----------------------------------------------------------------------------- closed forms

@pytest.mark.parametrize("system", free_rows("exact"), ids=lambda s: s.name)
def test_uncoupled_spins_have_a_binomial_mx_distribution(system):
    """J = 0: a product state (its μ is checked against the closed form in test_systems), so
    M_x is binomial with p(+x) = (1 + μx)/2 per spin."""
    from scipy.stats import binom

    lat = system.lattice
    m, P = steady_state(system.model, lat).mx_distribution()
    k = np.round((m + 1) * lat.N / 2).astype(int)
    p_up = (1 + single_spin_steady_state(system.model)[0]) / 2
    np.testing.assert_allclose(P, binom.pmf(k, lat.N, p_up), atol=1e-10)


def test_large_fully_connected_cluster_approaches_mean_field():
    """Outside the MF bistable window the FC magnetisation tends to the MF fixed point (ref. 55)."""
    from ddlib.meanfield import steady_states

    model_of = lambda N: Model(Delta=0.5, Omega=0.5, J=4.0 / (N - 1))  # noqa: E731
    mf = steady_states(Model(Delta=0.5, Omega=0.5, J=4.0), 1.0)
    assert len(mf) == 1
    err = [np.abs(steady_state(model_of(N), lattice.fully_connected(N)).mu - mf[0].mu).max()
           for N in (10, 20, 40)]
    assert err[2] < err[1] < err[0] and err[2] < 0.05


# ----------------------------------------------------------------------------- state checks

@pytest.mark.parametrize("lat", [lattice.fully_connected(7), lattice.chain(7),
                                 lattice.cluster2d(8)], ids=repr)
def test_density_matrix_is_a_state(lat):
    s = steady_state(Model(Delta=2.5, Omega=0.5, J=5.0 / lat.Z), lat)
    rho = s.rho()
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-13)
    assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)
    assert np.linalg.eigvalsh(rho).min() > -1e-12
    assert s.residual < 1e-10 and s.converged and s.message.startswith("solved")


@pytest.mark.parametrize("lat", [lattice.fully_connected(40), lattice.cluster2d(8)], ids=repr)
def test_mx_distribution_is_normalised_and_gives_mu_x(lat):
    s = steady_state(Model(Delta=3.0, Omega=0.5, J=6.0 / lat.Z), lat)
    m, P = s.mx_distribution()
    np.testing.assert_allclose(m, np.linspace(-1, 1, lat.N + 1))
    assert P.sum() == pytest.approx(1.0, abs=1e-12)
    assert P.min() > -1e-12
    assert np.dot(m, P) == pytest.approx(s.mu[0], abs=1e-12)


def test_fully_connected_ten_spins_is_bimodal_in_the_bistable_window():
    """Fig. 1a: FC N = 10, Ω = 0.5, JZ = 6 has a bimodal P_x between two unimodal regimes."""
    lat = lattice.fully_connected(10)
    b = [steady_state(Model(Delta=d, Omega=0.5, J=6.0 / 9), lat).bimodality
         for d in (0.5, 3.75, 6.0)]
    assert b[0] == 0.0 and b[2] == 0.0 and b[1] > 0.05


@pytest.mark.slow
def test_ring_of_eight_is_not_bimodal_where_fully_connected_is():
    """Paper: b_x stays zero on a 1D ring (N = 8) at parameters where FC N = 8 is bimodal."""
    model = Model(Delta=3.75, Omega=0.5, J=6.0 / 7)
    assert steady_state(model, lattice.fully_connected(8)).bimodality > 0.05
    assert steady_state(model.replace(J=6.0 / 2), lattice.chain(8)).bimodality == 0.0


# ----------------------------------------------------------------------------- b_x

@pytest.mark.parametrize("P, expected", [
    ([0.1, 0.2, 0.4, 0.2, 0.1], 0.0),                 # unimodal
    ([0.2, 0.2, 0.2, 0.2, 0.2], 0.0),                 # flat
    ([0.6, 0.3, 0.1, 0.0, 0.0], 0.0),                 # monotonic, maximum at the endpoint
    ([0.5, 0.0, 0.0, 0.5], 1.0),                      # symmetric bimodal, empty middle
    ([0.4, 0.1, 0.1, 0.4], 2 * 0.3 / 0.8),            # endpoint maxima
    ([0.1, 0.3, 0.3, 0.1, 0.2, 0.0], 2 * 0.1 / 0.5),  # plateau peak counts once
    ([0.05, 0.4, 0.1, 0.25, 0.05, 0.15], 2 * 0.15 / 0.65),  # two largest maxima used
])
def test_bimodality_index_of_hand_made_distributions(P, expected):
    assert bimodality_index(P) == pytest.approx(expected)


def test_bimodality_index_ignores_round_off():
    P = np.array([0.5, 0.3, 0.2, 1e-17, 2e-17, 1e-17])
    assert bimodality_index(P) == 0.0


# ----------------------------------------------------------------------------- gap

@pytest.mark.parametrize("lat", [lattice.fully_connected(4), lattice.chain(4)], ids=repr)
def test_gap_is_in_the_full_liouvillian_spectrum(lat):
    model = Model(Delta=2.0, Omega=0.5, J=4.0 / lat.Z)
    full_spectrum = np.linalg.eigvals(liouvillian(model, lat).full())
    sym = liouvillian_gap(model, lat)
    full = liouvillian_gap(model, lat, options=GapOptions(sector="full"))
    assert sym.sector == "symmetric" and full.sector == "full" and sym.converged
    # every eigenvalue of the symmetric sector belongs to the full spectrum
    assert all(np.abs(full_spectrum - lam).min() < 1e-8 for lam in sym.eigenvalues)
    nonzero = full_spectrum[np.abs(full_spectrum) > 1e-9]
    assert full.gap == pytest.approx(-nonzero.real.max(), abs=1e-9)
    assert sym.gap >= full.gap - 1e-10
    assert float(sym) == sym.gap


def test_gap_of_uncoupled_spins_is_the_single_spin_gap():
    """J = 0: the N-spin spectrum is made of sums of single-spin eigenvalues (sparse path)."""
    model = Model(Delta=0.7, Omega=0.4, J=0.0)
    expected = -single_spin_rates(model).real.max()
    got = liouvillian_gap(model, lattice.fully_connected(20), options=GapOptions(dense_max=100))
    assert not got.dense
    assert got.gap == pytest.approx(expected, abs=1e-8)


# ----------------------------------------------------------------------------- bad input

_M, _RING = Model(Delta=1.0, Omega=0.5, J=1.0), lattice.chain(4)
BAD_INPUTS = [
    case(steady_state, "model", _RING, param="model"),
    case(steady_state, _M, 4, param="lattice"),
    case(steady_state, _M, _RING, options={"route": "orbits"}, param="options"),
    case(steady_state, _M, _RING, options=SteadyStateOptions(route="permutation"),
         param="route"),
    case(steady_state, _M, lattice.chain(13), param="lattice"),
    case(steady_state, _M, lattice.fully_connected(400), param="lattice", exc=ResourceError),
    case(steady_state, _M, lattice.chain(12), param="lattice", exc=ResourceError),
    case(SteadyStateOptions, route="dense", param="route"),
    case(SteadyStateOptions, residual_tol=0.0, param="residual_tol"),
    case(SteadyStateOptions, linear_solver="umfpack", param="linear_solver"),
    case(GapOptions, sector="half", param="sector"),
    case(GapOptions, n_eigs=1, param="n_eigs"),
    case(GapOptions, tol=-1.0, param="tol"),
    case(liouvillian_gap, _M, lattice.chain(7), options=GapOptions(sector="full"),
         param="lattice"),
    case(liouvillian_gap, _M, _RING, options=SteadyStateOptions(), param="options"),
    case(liouvillian_gap, None, _RING, param="model"),
    case(liouvillian_gap, _M, lattice.fully_connected(400), param="lattice", exc=ResourceError),
    case(bimodality_index, [[0.5, 0.5]], param="P"),
    case(bimodality_index, [0.5, 0.5], rtol=-1.0, param="rtol"),
    case(memory_estimate, "ring", param="lattice"),
    case(memory_estimate, _RING, route="dense", param="route"),
    case(scan, _RING, [1.0, np.nan], [6.0], param="Delta", progress=False),
    case(scan, _RING, [1.0], [], param="JZ", progress=False),
    case(scan, _RING, [1.0], [6.0], Omega="0.5", param="Omega", progress=False),
    case(scan, _RING, [1.0], [6.0], coupling="xx", param="coupling", progress=False),
    case(scan, _RING, [1.0], [6.0], progress="no", param="progress"),
    case(scan, lattice.fully_connected(400), [1.0], [6.0], param="lattice", progress=False),
    case(gap_scan, 8, [1.0], [6.0], param="lattice", progress=False),
    case(gap_scan, _RING, "a", [6.0], param="Delta", progress=False),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


def test_rho_of_a_large_permutation_state_is_refused():
    with pytest.raises(ValueError, match="N=14"):
        steady_state(_M, lattice.fully_connected(14)).rho()


# ----------------------------------------------------------------------------- resources

@pytest.mark.parametrize("lat, n", [(lattice.fully_connected(10), 286), (lattice.chain(8), 4435),
                                    (lattice.cluster2d(8), 630), (lattice.chain(5), None)],
                         ids=repr)
def test_memory_estimate_counts_the_unknowns_of_the_solve(lat, n):
    """Burnside's count of orbits of pairs equals the size of the system actually built."""
    est = memory_estimate(lat)
    if n is None:
        n = steady_state(_M, lat).n_unknowns
    assert est.unknowns == n and est.fits and 0 < est.gb < 1


def test_the_issue_13_call_is_refused_before_any_work_with_an_estimate(monkeypatch):
    """Issue 13: FC N = 10000 at J𝒵 = 6 allocated until the kernel killed it
    (lattice.fully_connected itself built its 5e7 bonds first). It is refused before the bond
    list, the Liouvillian or its solve is built, naming the lattice, the GB and the largest N
    that fits here."""
    import re

    from ddlib import exact
    from ddlib.lattice import Lattice

    def work_started(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(Lattice, "bonds", property(work_started))
    for name in ("_permutation_system", "_orbit_system", "_solve_hermitian"):
        monkeypatch.setattr(exact, name, work_started)
    big = lattice.fully_connected(10000)
    with pytest.raises(ResourceError) as info:
        steady_state(Model(Delta=1, Omega=0.5, J=6 / 9999), big)
    msg = str(info.value)
    assert isinstance(info.value, ValueError) and msg.startswith("lattice: ")
    assert re.search(r"needs about [\d.e+]+ GB", msg)
    fit = int(re.search(r"largest N .*N = (\d+)", msg).group(1))
    avail = memory_estimate(big).available
    assert memory_estimate(lattice.fully_connected(fit)).bytes <= avail
    assert memory_estimate(lattice.fully_connected(fit + 1)).bytes > avail


# ----------------------------------------------------------------------------- failures

@pytest.mark.skipif(importlib.util.find_spec("pypardiso") is None,
                    reason="pypardiso (optional) not installed")
def test_failed_pardiso_solve_is_retried_by_superlu():
    """Ring N = 6, Ω = 0.5, JZ = 6, Δ = 4 (the cheapest of the failing ring points found):
    PARDISO perturbs pivots and returns a residual ~10; the retry by SuperLU solves it."""
    lat = lattice.chain(6)
    model = Model(Delta=4.0, Omega=0.5, J=3.0)
    s = steady_state(model, lat, options=SteadyStateOptions(linear_solver="pardiso"))
    assert s.converged and s.residual < 1e-12
    assert "pardiso failed" in s.message and s.message.startswith("solved (superlu")
    ref = steady_state(model, lat, options=SteadyStateOptions(linear_solver="superlu"))
    np.testing.assert_allclose(s.mu, ref.mu, atol=1e-12)
    assert np.all(np.isfinite(s.px)) and s.bimodality == ref.bimodality


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pypardiso") is None,
                    reason="pypardiso (optional) not installed")
def test_ring_of_eight_where_pardiso_fails_is_solved():
    """Issue 13: ring N = 8, Ω = 0.5, JZ = 8, Δ = 5 returned NaN (residual inf) from PARDISO
    and .bimodality raised; now the retry gives a converged state (~15 s here)."""
    s = steady_state(Model(Delta=5.0, Omega=0.5, J=4.0), lattice.chain(8))
    assert s.converged and s.residual < 1e-12, s.message
    assert "pardiso failed" in s.message
    m, P = s.mx_distribution()
    assert P.sum() == pytest.approx(1.0, abs=1e-12) and 0.0 <= s.bimodality <= 1.0


def test_unconverged_state_has_nan_observables_and_says_why():
    s = steady_state(_M, _RING, options=SteadyStateOptions(residual_tol=1e-300))
    assert not s.converged and "exceeds residual_tol" in s.message
    assert np.all(np.isnan(s.mu)) and np.all(np.isnan(s.mx_distribution()[1]))
    assert np.isnan(s.bimodality) and np.all(np.isnan(s.peaks()))
    assert np.all(np.isnan(s.rho()))
    with pytest.raises(ValueError, match="unconverged"):
        s.summary()


def test_scan_records_a_failed_point_as_missing_with_its_message(monkeypatch):
    """Both linear solvers failing (simulated) is a missing point, not a crash."""
    import ddlib.exact as exact

    def fail(*args, **kwargs):
        raise RuntimeError("factor is exactly singular (simulated)")

    monkeypatch.setattr(exact, "_solve_hermitian", fail)
    ds = exact.scan(lattice.chain(3), [0.9], [2.5], progress=False)
    assert not bool(ds.converged.squeeze())
    assert np.isnan(float(ds.bx.squeeze())) and np.isnan(float(ds.mux.squeeze()))
    assert "simulated" in str(ds.message.squeeze().values)


def test_summary_is_a_warm_start_record():
    from ddlib.results import SteadySummary

    s = steady_state(Model(Delta=1.2, Omega=0.5, J=0.8), lattice.chain(5))
    summ = s.summary()
    assert isinstance(summ, SteadySummary) and summ.solver == "exact" and summ.converged
    np.testing.assert_allclose(summ.mu, s.mu)
    assert SteadySummary.from_dict(summ.to_dict()) == summ


def test_arnoldi_gap_finds_an_oscillating_slow_mode():
    """Sparse path (Arnoldi, largest Re λ) equals the dense spectrum, also at small Δ where the
    slowest mode has a large imaginary part and is not among the eigenvalues nearest 0."""
    lat = lattice.fully_connected(12)
    for delta in (1.0, 3.0):
        model = Model(Delta=delta, Omega=0.5, J=6.0 / 11)
        dense = liouvillian_gap(model, lat, options=GapOptions(dense_max=1000))
        sparse = liouvillian_gap(model, lat, options=GapOptions(dense_max=100))
        assert dense.dense and not sparse.dense and sparse.converged
        assert sparse.gap == pytest.approx(dense.gap, abs=1e-8)


def test_peaks_of_a_bimodal_state_are_on_both_sides():
    s = steady_state(Model(Delta=3.75, Omega=0.5, J=6.0 / 9), lattice.fully_connected(10))
    m1, m2 = sorted(s.peaks())
    m, P = s.mx_distribution()
    assert m1 < 0 < m2 and P[np.isclose(m, m1)] > P[np.isclose(m, 0.0)]
    single = steady_state(Model(Delta=0.5, Omega=0.5, J=6.0 / 9), lattice.fully_connected(10))
    assert np.isnan(single.peaks()[1])


def test_scan_is_labelled_and_matches_point_solves():
    lat = lattice.fully_connected(8)
    ds = scan(lat, [1.0, 3.75], [6.0], progress=False)
    assert ds.bx.dims == ("Delta", "JZ") and ds.px.dims == ("Delta", "JZ", "m")
    np.testing.assert_allclose(ds.m, np.linspace(-1, 1, 9))
    point = steady_state(Model(Delta=3.75, Omega=0.5, J=6.0 / 7), lat)
    assert float(ds.bx.sel(Delta=3.75, JZ=6.0)) == pytest.approx(point.bimodality)
    np.testing.assert_allclose(ds.px.sum("m"), 1.0, atol=1e-12)
    assert bool(ds.converged.all())
    gaps = gap_scan(lat, [3.75], [6.0], progress=False)
    assert float(gaps.gap.squeeze()) == pytest.approx(
        liouvillian_gap(Model(Delta=3.75, Omega=0.5, J=6.0 / 7), lat).gap)


@pytest.mark.skipif(importlib.util.find_spec("pypardiso") is None,
                    reason="pypardiso (optional) not installed")
@pytest.mark.parametrize("lat", [lattice.fully_connected(30), lattice.chain(7)], ids=repr)
def test_pardiso_and_superlu_give_the_same_state(lat):
    model = Model(Delta=3.5, Omega=0.5, J=6.0 / lat.Z)
    a = steady_state(model, lat, options=SteadyStateOptions(linear_solver="pardiso"))
    b = steady_state(model, lat, options=SteadyStateOptions(linear_solver="superlu"))
    assert a.message == "solved (pardiso)" and b.message == "solved (superlu)"
    assert a.converged and b.converged
    np.testing.assert_allclose(a.coefficients, b.coefficients, atol=1e-12)


@pytest.mark.slow
def test_which_sector_holds_the_gap():
    """FC N = 5, Ω = 0.5, JZ = 6: across the MF window the slowest mode is symmetric; at small
    Δ a non-symmetric mode is slower (documented in liouvillian_gap)."""
    lat = lattice.fully_connected(5)
    gaps = {}
    for delta in (0.5, 3.0):
        model = Model(Delta=delta, Omega=0.5, J=6.0 / 4)
        gaps[delta] = (liouvillian_gap(model, lat).gap,
                       liouvillian_gap(model, lat, options=GapOptions(sector="full")).gap)
    assert gaps[3.0][0] == pytest.approx(gaps[3.0][1], abs=1e-9)
    assert gaps[0.5][0] > gaps[0.5][1] + 0.05
