r"""Lattices: which sites are coupled by the bond term of Eq. (2).

Every constructor returns a :class:`Lattice` with ``.N`` (number of sites), ``.Z`` (coordination
number :math:`\mathcal Z`, the number of distinct neighbours of a bulk site) and ``.bonds``
(array of shape ``(n_bonds, 2)``, each unordered pair of neighbouring sites once, ``i < j``).

======================  ===========================================  ===================
constructor             graph                                        :math:`\mathcal Z`
======================  ===========================================  ===================
``fully_connected(N)``  every pair of sites (FC)                     N − 1
``chain(N)``            ring (``periodic=True``) or open chain       2
``hypercubic(L, D)``    :math:`L^D` simple (hyper)cubic, periodic    2D
``cluster2d(N)``        periodic 2D parallelogram of N square cells  4
``cylinder(Lx, Ly)``    square lattice, open in x, periodic in y     4 (3 for Ly = 2)
======================  ===========================================  ===================

Sites of lattices with geometry carry integer coordinates ``.coords`` (shape ``(N, D)``).
Site numbering is the row-major (C) order of the coordinates, except for the cylinder, whose
sites are numbered along a snake path (see :func:`cylinder`).

Examples
--------
A ring of six sites: each site has two neighbours, six bonds, and the symmetry group of the
hexagon (6 rotations × 2 reflections), which :mod:`ddlib.exact` uses to reduce the density
matrix.

>>> from ddlib import lattice
>>> ring = lattice.chain(6)
>>> ring.N, ring.Z, len(ring.bonds)
(6, 2, 6)
>>> len(ring.automorphisms())
12
>>> lattice.chain(4, periodic=False).bonds.tolist()
[[0, 1], [1, 2], [2, 3]]
>>> lattice.hypercubic(4, 2).Z, lattice.fully_connected(10).Z, lattice.cylinder(4, 3).Z
(4, 9, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from .resources import available_memory, check_memory

__all__ = ["Lattice", "check_lattice", "fully_connected", "chain", "hypercubic", "cluster2d",
           "cylinder"]


def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.int64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Lattice:
    """A graph of N sites on which the spins live.

    Attributes
    ----------
    kind : str
        ``"fully_connected"``, ``"chain"``, ``"hypercubic"``, ``"cluster2d"`` or ``"cylinder"``.
    N : int
        Number of sites.
    Z : int
        Coordination number :math:`\\mathcal Z` of a bulk site (the paper's rescaling JZ).
    bonds : ndarray of int, shape (n_bonds, 2)
        Each pair of coupled sites once, with ``i < j``, sorted. For the fully connected graph
        (N(N − 1)/2 bonds) built on first use, so that a large N costs nothing until a solver
        needs the bonds.
    shape : tuple of int
        Linear sizes per dimension (``(N,)`` for the fully connected graph).
    periodic : tuple of bool
        Boundary condition per dimension.
    coords : ndarray of int, shape (N, D), or None
        Integer coordinates of the sites (None for the fully connected graph).
    params : dict
        The constructor's arguments (for labels and cache keys).
    """

    kind: str
    N: int
    Z: int
    _bonds: np.ndarray | None
    shape: tuple
    periodic: tuple
    coords: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    @property
    def bonds(self) -> np.ndarray:
        """Bond list, shape (n_bonds, 2) (see the class docstring)."""
        if self._bonds is None:  # the fully connected graph: every pair
            n_bonds = self.N * (self.N - 1) // 2
            fits = int(math.sqrt(2 * available_memory() / _FC_BYTES_PER_BOND))
            check_memory(n_bonds * _FC_BYTES_PER_BOND, param="lattice",
                         what=f"the bond list of {self!r} ({n_bonds:.3g} bonds)",
                         counted=f"~{_FC_BYTES_PER_BOND} bytes per bond: pairs and their "
                                 "index arrays",
                         largest=f"N = {fits}")
            i, j = np.triu_indices(self.N, 1)
            object.__setattr__(self, "_bonds", _frozen(np.stack([i, j], axis=1)))
        return self._bonds

    @property
    def dim(self) -> int:
        """Spatial dimension D (0 for the fully connected graph)."""
        return 0 if self.coords is None else self.coords.shape[1]

    def key(self) -> dict:
        """Plain-dict identity of the lattice, for cache keys."""
        return {"kind": self.kind, **self.params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.kind}({args})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Lattice) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.key().items())))

    def adjacency(self) -> np.ndarray:
        """Dense boolean adjacency matrix, shape (N, N) (refused when N² bytes do not fit)."""
        fits = int(math.sqrt(available_memory() / 2))
        check_memory(2.0 * self.N**2, param="lattice", what=f"the adjacency matrix of {self!r}",
                     counted="N x N booleans and a transposed copy", largest=f"N = {fits}")
        A = np.zeros((self.N, self.N), dtype=bool)
        A[self.bonds[:, 0], self.bonds[:, 1]] = True
        return A | A.T

    def degrees(self) -> np.ndarray:
        """Number of neighbours of each site, shape (N,)."""
        return np.bincount(self.bonds.ravel(), minlength=self.N)

    def automorphisms(self, limit: int = 100_000) -> np.ndarray:
        """All permutations of the sites that map bonds onto bonds.

        Found by backtracking over an order in which each site after the first has an
        already placed neighbour, so the search prunes at once; fine for the small clusters
        (N ≲ 16) of exact diagonalisation.

        Returns
        -------
        ndarray of int, shape (n_automorphisms, N)
            Row ``g`` maps site ``i`` to ``g[i]``; the identity comes first.

        Raises
        ------
        ValueError
            If the group has more than ``limit`` elements (e.g. the fully connected graph,
            whose group S_N is better handled by permutation-symmetric methods).
        """
        limit = _int("limit", limit, 1)
        A = self.adjacency()
        N = self.N
        order = _bfs_order(A)
        deg = A.sum(1)
        perm = -np.ones(N, dtype=np.int64)
        used = np.zeros(N, dtype=bool)
        found: list[np.ndarray] = []

        def extend(k: int) -> None:
            if k == N:
                found.append(perm.copy())
                if len(found) > limit:
                    raise ValueError(
                        f"{self!r} has more than limit={limit} automorphisms; "
                        "use a permutation-symmetric method instead")
                return
            v = order[k]
            placed = order[:k]
            for w in range(N):
                if used[w] or deg[w] != deg[v]:
                    continue
                if np.array_equal(A[perm[placed], w], A[placed, v]):
                    perm[v], used[w] = w, True
                    extend(k + 1)
                    perm[v], used[w] = -1, False

        extend(0)
        out = np.array(found, dtype=np.int64)
        identity = np.flatnonzero((out == np.arange(N)).all(1))
        return out[np.r_[identity, np.setdiff1d(np.arange(len(out)), identity)]]


def check_lattice(lattice) -> Lattice:
    """``lattice`` itself if it is a :class:`Lattice`, else a ValueError naming the parameter."""
    if not isinstance(lattice, Lattice):
        raise ValueError(f"lattice must be a ddlib.lattice.Lattice, got {type(lattice).__name__}")
    return lattice


def _bfs_order(A: np.ndarray) -> np.ndarray:
    N = len(A)
    seen = np.zeros(N, dtype=bool)
    order = []
    for start in range(N):
        if seen[start]:
            continue
        seen[start] = True
        queue = [start]
        while queue:
            v = queue.pop(0)
            order.append(v)
            for w in np.flatnonzero(A[v] & ~seen):
                seen[w] = True
                queue.append(w)
    return np.array(order)


def _sorted_bonds(pairs) -> np.ndarray:
    pairs = {(min(i, j), max(i, j)) for i, j in pairs if i != j}
    return _frozen(sorted(pairs)).reshape(-1, 2)


#: Peak bytes per bond of the fully connected bond list (np.triu_indices and the stacked pairs).
_FC_BYTES_PER_BOND = 48


def fully_connected(N: int) -> Lattice:
    """Fully connected (FC) graph: every pair of the N sites is a bond, Z = N − 1.

    Its N(N − 1)/2 bonds are listed on first use of ``.bonds`` (solvers that use the
    permutation symmetry only need N)."""
    N = _int("N", N, 2)
    return Lattice("fully_connected", N, N - 1, None, (N,), (False,), None, {"N": N})


#: Peak bytes per site and dimension of building a grid lattice (coordinates, bond pairs and
#: their sort; tracemalloc: 80, 144, 208 B per site for a ring, 300², 40³: ~64 D + 16).
_GRID_BYTES = (96, 48)  # per site and dimension, per site


def _check_size(param: str, what: str, N: int, per_site: float, largest) -> None:
    """Refuse a lattice whose arrays would not fit in memory (before building it)."""
    check_memory(N * per_site, param=param, what=f"building {what} ({N:.3g} sites)",
                 counted=f"~{per_site:.0f} bytes per site: coordinates, bonds and their sort",
                 largest=largest(available_memory() / per_site))


def _grid(kind: str, shape: tuple, periodic: tuple, params: dict) -> Lattice:
    """Sites in row-major order of their coordinates; a bond to the next site along each axis
    (wrapping around where periodic), vectorised."""
    dim = len(shape)
    index = np.arange(math.prod(shape)).reshape(shape)
    coords = np.indices(shape).reshape(dim, -1).T
    pairs = []
    for d, (n, per) in enumerate(zip(shape, periodic, strict=True)):
        if per:
            a, b = index, np.roll(index, -1, axis=d)
        else:
            a = index[(slice(None),) * d + (slice(0, n - 1),)]
            b = index[(slice(None),) * d + (slice(1, n),)]
        pairs.append(np.stack([a.ravel(), b.ravel()], axis=1))
    pairs = np.sort(np.concatenate(pairs), axis=1)
    key = np.sort(pairs[:, 0] * index.size + pairs[:, 1])  # sorted (i, j), each once
    key = key[np.r_[True, key[1:] != key[:-1]]]
    key = key[key // index.size != key % index.size]
    bonds = _frozen(np.stack([key // index.size, key % index.size], axis=1))
    Z = sum(2 if (n > 2 or not per) else 1 for n, per in zip(shape, periodic, strict=True))
    return Lattice(kind, index.size, Z, bonds, tuple(shape), tuple(periodic),
                   _frozen(coords), params)


def chain(N: int, periodic: bool = True) -> Lattice:
    """Chain of N sites: a ring (``periodic=True``, N ≥ 3) or an open chain (N ≥ 2). Z = 2."""
    if not isinstance(periodic, bool | np.bool_):
        raise ValueError(f"periodic must be a bool, got {periodic!r}")
    N = _int("N", N, 3 if periodic else 2)
    per_site = _GRID_BYTES[0] + _GRID_BYTES[1]
    _check_size("N", f"chain(N={N})", N, per_site, lambda n: f"N = {int(n):,}")
    return _grid("chain", (N,), (bool(periodic),), {"N": N, "periodic": bool(periodic)})


def hypercubic(L: int, dim: int, periodic: bool = True) -> Lattice:
    """Simple hypercubic lattice of :math:`L^D` sites, Z = 2D (periodic needs L ≥ 3)."""
    if not isinstance(periodic, bool | np.bool_):
        raise ValueError(f"periodic must be a bool, got {periodic!r}")
    dim = _int("dim", dim, 1)
    L = _int("L", L, 3 if periodic else 2)
    per_site = _GRID_BYTES[0] * dim + _GRID_BYTES[1]
    _check_size("L", f"hypercubic(L={L}, dim={dim})", L**dim, per_site,
                lambda n: f"L = {int(n ** (1 / dim))}")
    return _grid("hypercubic", (L,) * dim, (bool(periodic),) * dim,
                 {"L": L, "dim": dim, "periodic": bool(periodic)})


def _in_superlattice(v, a: int, b: int, d: int) -> bool:
    x, y = v
    if y % d:
        return False
    return (x - (y // d) * b) % a == 0


def _shortest(a: int, b: int, d: int) -> float:
    r = range(-3, 4)
    return min(np.hypot(m * a + n * b, n * d) for m in r for n in r if (m, n) != (0, 0))


def _cluster_hnf(N: int) -> tuple[int, int, int]:
    forbidden = [(1, 0), (0, 1), (2, 0), (0, 2), (1, 1), (1, -1)]
    candidates = [(a, b, N // a) for a in range(1, N + 1) if N % a == 0 for b in range(a)
                  if not any(_in_superlattice(v, a, b, N // a) for v in forbidden)]
    if not candidates:
        raise ValueError(f"N={N}: no periodic 2D cluster in which every site has 4 distinct "
                         "neighbours (needs N >= 5)")
    return max(candidates, key=lambda c: (round(_shortest(*c), 9), -c[0], -c[1]))


def cluster2d(N: int) -> Lattice:
    """Periodic 2D square-lattice cluster of N sites in which every site has 4 distinct neighbours.

    The cluster is the torus :math:`\\mathbb Z^2/\\Lambda` for a superlattice Λ of index N,
    stored in Hermite normal form: Λ is spanned by (a, 0) and (b, d) with a·d = N. Among the
    superlattices in which ±x̂, ±ŷ are four distinct sites, the one whose shortest period is
    longest (the most isotropic parallelogram) is taken, ties going to the smaller a, b. For
    the paper's sizes (App. A) this rule gives Λ spanned by

    * N = 8: (2, 2) and (2, −2) — a tilted square (as a graph, the complete bipartite K₄,₄);
    * N = 9: (3, 0) and (0, 3) — the 3 × 3 torus;
    * N = 10: (3, 1) and (−1, 3) — a tilted square.

    Z = 4; ``shape`` is (a, d); ``coords`` holds, for each site, its image closest to the
    origin (a compact drawing of the cluster). N = 5 gives the complete graph K₅ (the same
    graph as ``fully_connected(5)``).
    """
    N = _int("N", N, 5)
    if N > 10_000:
        raise ValueError(f"N must be <= 10000 for cluster2d (a cluster for exact "
                         f"diagonalisation; the search for its shape is O(N^2)), got {N}")
    a, b, d = _cluster_hnf(N)
    hnf = [(x, y) for y in range(d) for x in range(a)]
    index = {c: i for i, c in enumerate(hnf)}

    def site(x, y):
        n = y // d
        return index[((x - n * b) % a, y - n * d)]

    def compact(x, y):  # the image closest to the origin: a compact, centred drawing
        images = [(x + m * a + n * b, y + n * d) for m in range(-2, 3) for n in range(-2, 3)]
        return min(images, key=lambda v: (v[0] ** 2 + v[1] ** 2, v))

    pairs = [(i, site(x + dx, y + dy)) for i, (x, y) in enumerate(hnf)
             for dx, dy in ((1, 0), (0, 1))]
    coords = _frozen([compact(x, y) for x, y in hnf])
    return Lattice("cluster2d", N, 4, _sorted_bonds(pairs), (a, d), (True, True), coords,
                   {"N": N})


#: Peak bytes per site of building a cylinder (Python tuples; tracemalloc: ~770 B at 100²).
_CYLINDER_BYTES = 1000


def cylinder(Lx: int, Ly: int) -> Lattice:
    """Square lattice of Lx × Ly sites, open along x and periodic along y (circumference Ly).

    Sites are numbered along a snake path, column by column, going up y in even columns and
    down y in odd ones, so that consecutive sites are always neighbours: site ``x*Ly + k`` has
    coordinates ``(x, k)`` for even x and ``(x, Ly-1-k)`` for odd x. Ly = 2 gives a ladder
    (the two y-bonds of a rung coincide and are counted once, Z = 3).
    """
    Lx = _int("Lx", Lx, 2)
    Ly = _int("Ly", Ly, 2)
    _check_size("Lx", f"cylinder(Lx={Lx}, Ly={Ly})", Lx * Ly, _CYLINDER_BYTES,
                lambda n: f"Lx * Ly = {int(n):,}")
    coords = np.array([(x, k if x % 2 == 0 else Ly - 1 - k) for x in range(Lx) for k in range(Ly)],
                      dtype=np.int64)
    index = {tuple(c): i for i, c in enumerate(coords)}
    pairs = []
    for i, (x, y) in enumerate(coords):
        pairs.append((i, index[(x, (y + 1) % Ly)]))
        if x + 1 < Lx:
            pairs.append((i, index[(x + 1, y)]))
    return Lattice("cylinder", Lx * Ly, 4 if Ly > 2 else 3, _sorted_bonds(pairs), (Lx, Ly),
                   (False, True), _frozen(coords), {"Lx": Lx, "Ly": Ly})
