"""The disk cache: hits, misses on changed parameters, corrupt and stale files recomputed."""

import pickle

from ddlib import Model, lattice
from ddlib.cache import cache_dir, cached


def _counter():
    calls = []

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    return compute, calls


def test_hit_and_miss():
    compute, calls = _counter()
    p = {"model": Model(1.0, 0.5, 1.0), "lattice": lattice.chain(5)}
    assert cached("t.hit", compute, **p) == {"value": 1}
    assert cached("t.hit", compute, **p) == {"value": 1}
    assert len(calls) == 1
    cached("t.hit", compute, model=Model(1.0 + 1e-12, 0.5, 1.0), lattice=lattice.chain(5))
    assert len(calls) == 2


def test_corrupt_and_stale_entries_are_recomputed():
    compute, calls = _counter()
    cached("t.bad", compute, x=1)
    (path,) = (cache_dir() / "t.bad").glob("*.pkl")
    path.write_bytes(b"not a pickle")
    assert cached("t.bad", compute, x=1) == {"value": 2}
    with open(path, "wb") as fh:  # an entry whose stored key does not match
        pickle.dump({"key": "something else", "value": "stale"}, fh)
    assert cached("t.bad", compute, x=1) == {"value": 3}
    assert len(list((cache_dir() / "t.bad").iterdir())) == 1  # no temporary files left


def test_cache_off(monkeypatch):
    monkeypatch.setenv("DDLIB_CACHE", "off")
    compute, calls = _counter()
    cached("t.off", compute, x=1)
    cached("t.off", compute, x=1)
    assert len(calls) == 2


def test_a_code_change_makes_entries_stale(monkeypatch):
    from ddlib import cache

    compute, calls = _counter()
    cached("t.code", compute, x=1)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "edited-source")
    cached("t.code", compute, x=1)
    assert len(calls) == 2
