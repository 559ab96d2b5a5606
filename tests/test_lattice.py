"""Lattices: sizes, coordination, bonds and symmetry groups."""

import math

import numpy as np
import pytest
from badinput import bad_input_test, case

from ddlib import lattice


def _neighbour_sets(lat):
    A = lat.adjacency()
    return [set(np.flatnonzero(row)) for row in A]


@pytest.mark.parametrize(
    "lat, N, Z, n_bonds",
    [
        (lattice.fully_connected(6), 6, 5, 15),
        (lattice.chain(8), 8, 2, 8),
        (lattice.chain(8, periodic=False), 8, 2, 7),
        (lattice.hypercubic(4, 2), 16, 4, 32),
        (lattice.hypercubic(3, 3), 27, 6, 81),
        (lattice.cylinder(4, 3), 12, 4, 9 + 12),
        (lattice.cylinder(3, 2), 6, 3, 4 + 3),
    ],
)
def test_sizes(lat, N, Z, n_bonds):
    assert (lat.N, lat.Z, len(lat.bonds)) == (N, Z, n_bonds)
    assert (lat.bonds[:, 0] < lat.bonds[:, 1]).all()
    assert len({tuple(b) for b in lat.bonds}) == len(lat.bonds)


@pytest.mark.parametrize("N", [5, 6, 7, 8, 9, 10, 11, 12])
def test_cluster2d_every_site_has_four_distinct_neighbours(N):
    lat = lattice.cluster2d(N)
    assert lat.N == N and lat.Z == 4
    assert all(len(s) == 4 for s in _neighbour_sets(lat))
    assert len(lat.bonds) == 2 * N


@pytest.mark.parametrize("N, spans", [(8, [(2, 2), (2, -2)]), (9, [(3, 0), (0, 3)]),
                                      (10, [(3, 1), (-1, 3)])])
def test_cluster2d_paper_parallelograms(N, spans):
    """The documented spanning vectors generate the cluster's superlattice (index N)."""
    assert round(abs(np.linalg.det(np.array(spans)))) == N
    hnf = lattice._cluster_hnf(N)
    assert all(lattice._in_superlattice(v, *hnf) for v in spans)
    assert hnf[0] * hnf[2] == N
    # and the sites' compact images are N distinct points
    assert len({tuple(c) for c in lattice.cluster2d(N).coords}) == N


def test_cylinder_snake_path_is_connected():
    lat = lattice.cylinder(5, 4)
    nb = _neighbour_sets(lat)
    assert all(i + 1 in nb[i] for i in range(lat.N - 1))


@pytest.mark.parametrize(
    "lat, order",
    [
        (lattice.chain(8), 16),  # dihedral group D_8
        (lattice.chain(6, periodic=False), 2),
        (lattice.cluster2d(9), 72),  # 3x3 torus = K3 x K3: (S3 x S3) x Z2
        (lattice.cluster2d(8), 1152),  # K_{4,4}: (S4 x S4) x Z2
        (lattice.cluster2d(5), 120),  # K5: S5
        (lattice.fully_connected(5), math.factorial(5)),
    ],
)
def test_automorphism_groups(lat, order):
    G = lat.automorphisms()
    assert G.shape == (order, lat.N)
    np.testing.assert_array_equal(G[0], np.arange(lat.N))
    bonds = {tuple(b) for b in lat.bonds}
    for g in G[:: max(1, order // 50)]:
        assert {tuple(sorted((g[i], g[j]))) for i, j in lat.bonds} == bonds


def test_equality_and_keys():
    assert lattice.chain(6) == lattice.chain(6)
    assert lattice.chain(6) != lattice.chain(6, periodic=False)
    assert lattice.hypercubic(4, 2).key() == {"kind": "hypercubic", "L": 4, "dim": 2,
                                               "periodic": True}


# ------------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    case(lattice.fully_connected, 1, param="N"),
    case(lattice.fully_connected, 2.5, param="N"),
    case(lattice.chain, 2, param="N"),
    case(lattice.chain, 4.0, param="N"),
    case(lattice.chain, 5, periodic="yes", param="periodic"),
    case(lattice.chain, 10**12, param="N"),
    case(lattice.hypercubic, 2, 2, param="L"),
    case(lattice.hypercubic, 4, 0, param="dim"),
    case(lattice.hypercubic, 4, 2, periodic=None, param="periodic"),
    case(lattice.hypercubic, 10**5, 3, param="L"),
    case(lattice.cluster2d, 4, param="N"),
    case(lattice.cluster2d, 10**6, param="N"),
    case(lattice.cylinder, 1, 3, param="Lx"),
    case(lattice.cylinder, 3, 1.5, param="Ly"),
    case(lattice.cylinder, 10**6, 10**4, param="Lx"),
    case(lattice.check_lattice, "chain(4)", param="lattice"),
    case(lattice.chain(6).automorphisms, limit=0, param="limit"),
    case(lattice.fully_connected(6).automorphisms, limit=10, param="limit"),  # 6! = 720
]


test_bad_input_names_the_parameter = bad_input_test(BAD_INPUTS)


def test_large_fully_connected_graph_costs_nothing_until_its_bonds_are_used():
    """fully_connected(N) lists its N(N-1)/2 bonds on first use; too many are refused with
    an estimate instead of filling the memory."""
    huge = lattice.fully_connected(10**6)
    assert huge.N == 10**6 and huge.Z == 10**6 - 1
    with pytest.raises(ValueError, match="lattice.*GB"):
        huge.bonds  # noqa: B018
