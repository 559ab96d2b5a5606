"""On-disk cache of expensive results, keyed by their parameters.

A result is stored under a key built from a plain description of what was computed (model,
lattice, solver options), the ``ddlib`` version and a fingerprint of the ``ddlib`` source code,
so that results computed by older code are never reused. The file holds the key next to the
value; on load the key is compared, so a hash collision, a stale entry or a file that does
not unpickle is recomputed and overwritten, never trusted. Writes are atomic (temporary file,
then rename), so an interrupted run leaves no half-written entry.

The cache lives in ``$DDLIB_CACHE`` (default ``~/.cache/ddlib``); ``DDLIB_CACHE=off`` switches
it off.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

__all__ = ["cached", "cache_dir", "make_key"]


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off."""
    where = os.environ.get("DDLIB_CACHE", "")
    if where.lower() in ("off", "0", "false", "no"):
        return None
    return Path(where).expanduser() if where else Path.home() / ".cache" / "ddlib"


def _plain(obj: Any) -> Any:
    """A JSON-able, canonical form of parameters (dataclasses, arrays, numpy scalars)."""
    if hasattr(obj, "key") and callable(obj.key):
        return _plain(obj.key())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__name__,
                **{f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float):
        return repr(obj)  # exact round-trip, distinguishes 0.1 from 0.1000000001
    return obj


@functools.cache
def code_fingerprint() -> str:
    """Hash of the source of every ``ddlib`` module: a change of the code that computed an
    entry makes the entry stale, whatever the version number says."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def make_key(name: str, **params) -> str:
    """Canonical JSON text identifying a computation: its name, its parameters, the ddlib
    version and the fingerprint of the ddlib source code."""
    return json.dumps({"name": name, "version": __version__, "code": code_fingerprint(),
                       "params": _plain(params)}, sort_keys=True)


def cached(name: str, compute: Callable[[], Any], **params) -> Any:
    """Return ``compute()``, stored on disk under (``name``, ``params``, ddlib version).

    Parameters
    ----------
    name : str
        What is computed (e.g. ``"exact.steady_state"``); also the sub-directory.
    compute : callable
        Called without arguments on a miss; its value must pickle.
    **params
        Everything the value depends on (models, lattices, option dataclasses, numbers).
    """
    root = cache_dir()
    if root is None:
        return compute()
    key = make_key(name, **params)
    path = root / name / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".pkl")
    try:
        with open(path, "rb") as fh:
            stored = pickle.load(fh)
        if isinstance(stored, dict) and stored.get("key") == key:
            return stored["value"]
    except Exception:  # noqa: BLE001 - missing, corrupt or foreign file: recompute
        pass
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"key": key, "value": value}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return value
