"""App. D as derived and as printed (ddlib.paper.appendix_d): the symbolic equations against
the brute-force algebra on the lattice, the misprints, and the closure against exact dynamics
(the closed rates err at O(eps^2) in states with O(eps) pair correlations)."""

import numpy as np
import pytest
from badinput import bad_input_test, case

from ddlib import Model, lattice, reference
from ddlib.paper import appendix_d
from ddlib.pauli import Poly


def test_symbolic_ising_one_point_equations_are_xy_with_J_to_minus_Jz():
    xy, ising = appendix_d.derived_equations("xy"), appendix_d.derived_equations("ising")
    for a in "xyz":
        assert ising.mu[a] == xy.mu[a].subs({"J": -1 * Poly.symbol("J_z")})
        assert appendix_d.printed_equations("xy").mu[a] == xy.mu[a]


def test_local_and_dissipative_parts_are_the_corrected_d4_and_d14():
    """Π of Eq. (D5) enters as Σ_d Π_ad ϑ_db + Σ_d Π_bd ϑ_ad; g from the one-site dissipator
    𝓓†[σˣ] = −σˣ/2, 𝓓†[σʸ] = −σʸ/2, 𝓓†[σᶻ] = −(1 + σᶻ)."""
    eq = appendix_d.derived_equations("xy")
    D, W, G = (Poly.symbol(n) for n in ("Delta", "Omega", "Gamma"))
    Pi = [[0, -1 * D, 0], [D, 0, -2 * W], [0, 2 * W, 0]]
    mu = [Poly.symbol(f"mu_{a}") for a in "xyz"]

    def th(a, b):
        return Poly.symbol(f"th_{''.join(sorted('xyz'[a] + 'xyz'[b]))}(R)")

    def dissipated(a):  # 𝓓†[σ^a] as (constant, {axis: coefficient})
        return (0, {a: -0.5}) if a < 2 else (-1, {2: -1})

    for ab in ("xx", "yy", "zz", "xy", "xz", "yz"):
        a, b = "xyz".index(ab[0]), "xyz".index(ab[1])
        local = sum((Pi[a][d] * th(d, b) + Pi[b][d] * th(a, d) for d in range(3)), Poly())
        assert eq.local[ab] == local, ab
        (ca, da), (cb, db) = dissipated(a), dissipated(b)
        g = ca * mu[b] + cb * mu[a]
        g = g + sum((v * th(k, b) for k, v in da.items()), Poly())
        g = g + sum((v * th(a, k) for k, v in db.items()), Poly())
        assert eq.g[ab] == G * g, ab


@pytest.mark.parametrize("coupling", ["xy", "ising"])
def test_misprints_are_in_d4_and_d14_only(coupling):
    """The coupling terms f (D8–D13, D16–D21) and Eqs. (4)–(6) agree with the derivation;
    the printed D4 (first sum, ϑ_ab for ϑ_db) and D14 (g_zz, g_xz, g_yz) do not."""
    found = {(m.equation, m.part) for m in appendix_d.misprints(coupling)}
    expected = {(f"theta_{ab}", "local") for ab in ("xx", "yy", "zz", "xy", "xz", "yz")}
    expected |= {("theta_zz", "g"), ("theta_xz", "g"), ("theta_yz", "g")}
    assert found == expected
    g = {m.equation: m.difference for m in appendix_d.misprints(coupling) if m.part == "g"}
    G, mz = Poly.symbol("Gamma"), Poly.symbol("mu_z")
    assert g["theta_zz"] == -2 * G * mz - G * Poly.symbol("th_zz(R)")
    assert g["theta_xz"] == 0.5 * G * (Poly.symbol("mu_x") + Poly.symbol("th_xz(R)"))


@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", [lattice.chain(7), lattice.hypercubic(5, 2),
                                 lattice.hypercubic(3, 3)], ids=["ring7", "5x5", "3x3x3"])
def test_app_d_form_agrees_with_brute_force_algebra_on_the_lattice(coupling, lat):
    """The symbolic equations (Z, δ_{|R|,1}, Σ_R') evaluated on a lattice-symmetric state
    equal the site-by-site closed right-hand side."""
    model = Model(Delta=1.2, Omega=0.6, J=0.7, coupling=coupling)
    mu = np.array([0.2, -0.3, -0.6])
    eta = reference.symmetric_pair_amplitudes(lat, seed=4, scale=0.02)
    ref = reference.mfqf_rhs_reference(model, lat, mu, eta)
    sym = appendix_d.derived_equations(coupling).evaluate(model, lat, mu, eta)
    np.testing.assert_allclose(sym[0], ref[0], atol=1e-14)
    np.testing.assert_allclose(sym[1], ref[1], atol=1e-13)
    printed = appendix_d.printed_equations(coupling).evaluate(model, lat, mu, eta)
    assert np.abs(printed[1] - ref[1]).max() > 0.1


def slope(x, y):
    return np.polyfit(np.log(x), np.log(y), 1)[0]


@pytest.mark.slow
@pytest.mark.parametrize("coupling", ["xy", "ising"])
@pytest.mark.parametrize("lat", [lattice.chain(7), lattice.hypercubic(3, 2)],
                         ids=["ring7", "torus3x3"])
def test_closed_equations_match_exact_dynamics_to_second_order(coupling, lat):
    """In a product state dressed with pair correlations of order ε, the closed ∂_t η differs
    from the exact tr(σσ 𝓛[ρ]) by O(ε²) (the three-point cumulant), while ∂_t η itself
    moves at O(ε): the first-order terms of the closed equations are right."""
    model = Model(Delta=1.3, Omega=0.7, J=0.9, coupling=coupling)
    eps = np.array([0.002, 0.004, 0.008, 0.016])
    scan = appendix_d.closure_error_scan(model, lat, eps, seed=5, scale=0.2)
    assert scan.converged, scan.message
    assert scan.error_mu.max() < 1e-13  # Eqs. (4)-(6) are exact: no closure
    assert scan.slope == pytest.approx(2.0, abs=0.15)
    assert slope(eps, scan.error_derived) == pytest.approx(scan.slope)
    assert slope(eps, scan.change) == pytest.approx(1.0, abs=0.15)
    assert (scan.error_derived < 0.1 * scan.change).all()
    # the printed D4/D14 miss at zeroth order: their error does not vanish with ε
    assert scan.error_printed.min() > 0.1


def test_ising_bonds_leave_zz_correlations_alone():
    """σᶻσᶻ bonds commute with σᶻ_R σᶻ_0, so ∂t ϑ_zz has no J_z term (Eq. D18), at any R;
    with XY bonds it has."""
    for where in ("far", "nn"):
        ising = appendix_d.derived_equations("ising").theta_rhs("zz", where)
        assert not any("J_z" in m for m in ising.terms)
        xy = appendix_d.derived_equations("xy").theta_rhs("zz", where)
        assert any("J" in m for m in xy.terms)


# ------------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    case(appendix_d.derived_equations, "heisenberg", param="coupling"),
    case(appendix_d.closure_error_scan, Model(Delta=1.0, Omega=0.5, J=1.0), lattice.chain(5),
         [0.01], param="epsilons"),
    case(appendix_d.printed_equations, "heisenberg", param="coupling"),
    case(appendix_d.misprints, "dm", param="coupling"),
    case(appendix_d.closure_error_scan, "model", lattice.chain(5), [0.01, 0.02],
         param="model"),
    case(appendix_d.closure_error_scan, Model(Delta=1.0, Omega=0.5, J=1.0), lattice.chain(5),
         ["a", "b"], param="epsilons"),
    case(appendix_d.derived_equations("xy").evaluate, Model(1.0, 0.5, 1.0, coupling="ising"),
         lattice.chain(5), [0, 0, -1], np.zeros((3, 3, 5)), param="coupling"),
    # a distance case other than "far" / "nn"
    case(appendix_d.derived_equations("xy").coupling_part, "xx", "middle", param="case"),
    case(appendix_d.derived_equations("xy").theta_rhs, "xw", "far", param="ab"),
    case(appendix_d.derived_equations("ising").theta_rhs, "zz", "near", param="case"),
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)
