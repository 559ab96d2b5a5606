"""On-disk cache of expensive results, keyed by their parameters and the solver's code.

A result is stored under a key built from a plain description of what was computed (model,
lattice, solver options), the ``ddlib`` version and a fingerprint of the source code of the
*solver that computed it*: the solver's module plus every ``ddlib`` module it imports,
transitively (read from the modules' import statements, without importing them). Editing
``ddlib/plots.py`` therefore leaves MPO or MFQF results valid, while editing ``ddlib/mfqf.py``
or ``ddlib/model.py`` makes every MFQF entry stale. Which solver a computation belongs to is,
in this order: the ``solver=`` argument of :func:`cached`; the module of ``compute`` when it
is a ``ddlib`` module; the first component of ``name`` when it names a ``ddlib`` module
(``"mpo.steady_state"`` → ``ddlib.mpo``); otherwise the whole package (conservative).

Entries are portable files, never pickles (unpickling runs code, and a cache directory is
something people copy around):

* an :class:`xarray.Dataset` or :class:`~xarray.DataArray` → netCDF (``.nc``);
* anything else made of numbers, strings, arrays (numeric, bool or str), lists, tuples,
  dicts with string keys, :class:`types.SimpleNamespace` and ``ddlib`` dataclasses or
  named tuples (result records, :class:`~ddlib.model.Model`, lattices, summaries) → ``.npz``
  (the arrays, read with ``allow_pickle=False``) plus a JSON description of the structure.
  On loading, only ``ddlib`` classes are rebuilt (from their field values).

A value with any other part (an open file, a quimb tensor network, a callable) cannot be
stored portably: :func:`cached` then keeps it in memory for the rest of the process and warns
(:class:`UnportableWarning`), or raises ``TypeError`` with ``portable=True``.

Each entry is a JSON file (the key, the structure and the SHA-256 of its data file) written
last, after its data file; both are written atomically (temporary file, then rename), so an
interrupted run leaves no half-written entry, and a corrupt, truncated, foreign or stale entry
(stored key or checksum differing) is recomputed and overwritten, never trusted.

The cache lives in ``$DDLIB_CACHE`` (default ``~/.cache/ddlib``); ``DDLIB_CACHE=off`` switches
it off.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib
import json
import math
import os
import tempfile
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

__all__ = ["cached", "cache_dir", "make_key", "code_fingerprint", "solver_modules",
           "save", "load", "UnportableWarning"]

_PACKAGE = "ddlib"
_ROOT = Path(__file__).parent
_MEMORY: dict[str, Any] = {}


class UnportableWarning(UserWarning):
    """A cached value could not be stored portably and is kept in memory only."""


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


# ----------------------------------------------------------------------------- code keys

def _module_file(module: str, root: Path, package: str) -> Path | None:
    """Source file of ``module`` inside ``package`` (rooted at ``root``), None if none."""
    parts = module.split(".")
    if parts[0] != package:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py") if parts[1:] else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _imports(module: str, path: Path, root: Path, package: str) -> set[str]:
    """The ``package`` modules that ``module``'s source imports anywhere (top level, inside
    functions, under ``TYPE_CHECKING``)."""
    is_pkg = path.name == "__init__.py"
    here = module if is_pkg else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{target}.{alias.name}"
                found.add(sub if _module_file(sub, root, package) else target)
    return {m for m in found if _module_file(m, root, package) is not None}


# Modules that store, sweep or archive results but compute none of their values: a solver that
# imports them (``exact.scan`` runs on ``sweep.grid``) is not keyed by their code, so a change
# of the sweep or cache machinery leaves solver results valid (and does not drag in every
# solver that ``sweep`` knows). Asked for by name, they are keyed as usual.
_ORCHESTRATION = frozenset({"cache", "sweep", "archive"})


@functools.cache
def _closure(modules: tuple[str, ...], root: Path, package: str) -> tuple[str, ...]:
    """``modules``, the packages containing them and every module they import inside
    ``package``, transitively (the package's own ``__init__`` only when imported from; the
    orchestration modules only when asked for)."""
    skip = ({package} | {f"{package}.{m}" for m in _ORCHESTRATION}) - set(modules)
    todo, seen = list(modules), set()
    while todo:
        m = todo.pop()
        if m in seen or m in skip:
            continue
        path = _module_file(m, root, package)
        if path is None:
            raise ValueError(f"solver must name a module of {package}, got {m!r}")
        seen.add(m)
        todo.extend(_imports(m, path, root, package))
        parent = m.rpartition(".")[0]
        if parent and parent != package:
            todo.append(parent)
    return tuple(sorted(seen))


def solver_modules(solver, *, root: Path | None = None,
                   package: str = _PACKAGE) -> list[str]:
    """The modules whose source keys a solver's cache entries.

    Parameters
    ----------
    solver : str, module or sequence of them
        E.g. ``"ddlib.mfqf"`` or ``("ddlib.sweep", "ddlib.meanfield")``.

    Returns
    -------
    list of str
        The solver modules and every ``ddlib`` module they import, transitively, sorted.
    """
    try:
        names = [solver] if isinstance(solver, str | types.ModuleType) else list(solver)
    except TypeError:  # not iterable
        names = []
    names = [n.__name__ if isinstance(n, types.ModuleType) else n for n in names]
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"solver must be a module name, a module or a sequence of them, "
                         f"got {solver!r}")
    return list(_closure(tuple(names), root or _ROOT, package))


@functools.cache
def _fingerprint(modules: tuple[str, ...] | None, root: Path, package: str) -> str:
    if modules is None:
        files = sorted(root.rglob("*.py"))
        items = [(str(p.relative_to(root)), p) for p in files]
    else:
        items = [(m, _module_file(m, root, package)) for m in modules]
    digest = hashlib.sha256()
    for label, path in items:
        digest.update(label.encode() + b"\0" + _code_text(path).encode() + b"\0")
    return digest.hexdigest()[:16]


def _code_text(path: Path) -> str:
    """The source of ``path`` without what cannot change a result: docstrings, comment-only
    lines, blank lines and trailing spaces. Line-based (docstring extents from the AST), so the
    text, and hence a fingerprint, is the same on every Python version."""
    source = path.read_text(encoding="utf-8")
    drop: set[int] = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                drop.update(range(first.lineno, first.end_lineno + 1))
    keep = (line.rstrip() for i, line in enumerate(source.splitlines(), 1) if i not in drop)
    return "\n".join(line for line in keep if line.strip() and not line.lstrip().startswith("#"))


def code_fingerprint(solver=None, *, root: Path | None = None,
                     package: str = _PACKAGE) -> str:
    """Hash of the source of a solver's modules (see :func:`solver_modules`), or of every
    ``ddlib`` module when ``solver`` is None: a change of the code that computed an entry
    makes the entry stale, whatever the version number says. Computed once per process
    (``_closure.cache_clear()``, ``_fingerprint.cache_clear()`` to re-read the sources)."""
    root = root or _ROOT
    modules = None if solver is None else tuple(solver_modules(solver, root=root,
                                                               package=package))
    return _fingerprint(modules, root, package)


def _solver_of(name: str, compute: Callable, solver) -> Any:
    """The solver an entry belongs to (see the module docstring), None for the package."""
    if solver is not None:
        return solver
    module = getattr(compute, "__module__", None) or ""
    if module.startswith(_PACKAGE + ".") and module not in ("ddlib.cache", "ddlib.sweep"):
        return module
    head = f"{_PACKAGE}.{name.split('.')[0]}"
    if "." in name and _module_file(head, _ROOT, _PACKAGE) is not None:
        return head
    return None


def _check_name(name) -> None:
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"name must be a non-empty string without '/', got {name!r}")


def _check_path(path) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def make_key(name: str, *, solver=None, **params) -> str:
    """Canonical JSON text identifying a computation: its name, its parameters, the ddlib
    version and the fingerprint of the solver's code (the whole package for ``solver=None``)."""
    _check_name(name)
    return json.dumps({"name": name, "version": __version__, "code": code_fingerprint(solver),
                       "params": _plain(params)}, sort_keys=True)


# ----------------------------------------------------------------------------- storage

class _Unportable(TypeError):
    pass


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _ddlib_class(path: str) -> type:
    """A ``ddlib`` class from ``module:qualname`` (nothing outside ddlib is ever imported)."""
    module, _, qualname = path.partition(":")
    if not (module == _PACKAGE or module.startswith(_PACKAGE + ".")):
        raise ValueError(f"refusing to rebuild {path!r}: not a ddlib class")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{path!r} is not a class")
    return obj


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """JSON tree of ``obj`` with its arrays moved to ``arrays`` (refs ``{"__array__": k}``)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        return x if math.isfinite(x) else {"__float__": repr(x)}
    if isinstance(obj, complex | np.complexfloating):
        return {"__complex__": [_encode(obj.real, arrays, where),
                                _encode(obj.imag, arrays, where)]}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufcUS":
            raise _Unportable(f"{where} is an array of dtype {obj.dtype}")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    cls = type(obj)
    if dataclasses.is_dataclass(obj) or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        if not cls.__module__.startswith(_PACKAGE + "."):
            raise _Unportable(f"{where} is a {cls.__module__}.{cls.__qualname__} (only ddlib "
                              "records are rebuilt)")
        names = ([f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj)
                 else list(obj._fields))
        return {"__class__": _class_path(cls),
                "fields": {n: _encode(getattr(obj, n), arrays, f"{where}.{n}")
                           for n in names}}
    if isinstance(obj, types.SimpleNamespace):
        return {"__namespace__": {k: _encode(v, arrays, f"{where}.{k}")
                                  for k, v in vars(obj).items()}}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise _Unportable(f"{where} is a dict with non-string keys")
        return {"__dict__": {k: _encode(v, arrays, f"{where}[{k!r}]") for k, v in obj.items()}}
    if isinstance(obj, list | tuple):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    raise _Unportable(f"{where} is a {cls.__module__}.{cls.__qualname__}")


def _decode(tree: Any, arrays) -> Any:
    if isinstance(tree, list):
        return [_decode(v, arrays) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__array__" in tree:
        return arrays[tree["__array__"]]
    if "__float__" in tree:
        return float(tree["__float__"])
    if "__complex__" in tree:
        re, im = (_decode(v, arrays) for v in tree["__complex__"])
        return complex(re, im)
    if "__tuple__" in tree:
        return tuple(_decode(v, arrays) for v in tree["__tuple__"])
    if "__namespace__" in tree:
        return types.SimpleNamespace(**{k: _decode(v, arrays)
                                        for k, v in tree["__namespace__"].items()})
    if "__dict__" in tree:
        return {k: _decode(v, arrays) for k, v in tree["__dict__"].items()}
    if "__class__" in tree:
        cls = _ddlib_class(tree["__class__"])
        fields = {k: _decode(v, arrays) for k, v in tree["fields"].items()}
        if isinstance(cls, type) and issubclass(cls, tuple):
            return cls(**fields)
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{tree['__class__']} is not a dataclass")
        obj = object.__new__(cls)  # the stored field values as they were, not re-validated
        for k, v in fields.items():
            object.__setattr__(obj, k, v)
        return obj
    raise ValueError(f"unknown entry node {sorted(tree)}")


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_xarray(value) -> bool:
    mod = type(value).__module__
    return mod.startswith("xarray.") and type(value).__name__ in ("Dataset", "DataArray")


def save(path: Path, value: Any, key: str = "") -> None:
    """Store ``value`` portably at ``path`` (a stem: ``path.json`` plus ``path.nc`` or
    ``path.npz``). Raises ``TypeError`` naming the part that cannot be stored portably."""
    path = _check_path(path)
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, got {type(key).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"key": key}
    if _is_xarray(value):
        import xarray as xr

        ds = value.to_dataset(name="__dataarray__") if isinstance(value, xr.DataArray) \
            else value
        arrays: dict[str, np.ndarray] = {}
        try:  # attributes that netCDF cannot hold (dicts, nested lists) go to the JSON
            meta["attrs"] = _encode(dict(ds.attrs), arrays, "value.attrs")
        except _Unportable as err:
            raise TypeError(f"cannot store {err} portably") from None
        if arrays:
            raise TypeError("cannot store value.attrs portably: it holds arrays")
        meta["format"] = "dataarray" if isinstance(value, xr.DataArray) else "dataset"
        meta["name"] = _encode(getattr(value, "name", None), arrays, "value.name") \
            if isinstance(value, xr.DataArray) else None
        data = path.with_suffix(".nc")
        stripped = ds.copy(deep=False)
        stripped.attrs = {}
        _write_atomic(data, lambda p: stripped.to_netcdf(p))
    else:
        arrays = {}
        try:
            meta["value"] = _encode(value, arrays, "value")
        except _Unportable as err:
            raise TypeError(f"cannot store {err} portably (numbers, strings, arrays, "
                            "lists, tuples, dicts, SimpleNamespace and ddlib records "
                            "only)") from None
        meta["format"] = "npz"
        data = path.with_suffix(".npz")

        def write(p: Path) -> None:
            with open(p, "wb") as fh:
                np.savez(fh, **arrays)

        _write_atomic(data, write)
    meta["sha256"] = _sha(data)
    _write_atomic(path.with_suffix(".json"),
                  lambda p: p.write_text(json.dumps(meta, allow_nan=False)))


def load(path: Path, key: str | None = None) -> Any:
    """The value stored at ``path`` by :func:`save`; ``ValueError`` if its stored key
    differs from ``key`` (when given) or its data file does not match its checksum."""
    path = _check_path(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    if key is not None and meta.get("key") != key:
        raise ValueError("stored key differs")
    if meta["format"] == "npz":
        data = path.with_suffix(".npz")
        if _sha(data) != meta["sha256"]:
            raise ValueError("data file does not match its checksum")
        with np.load(data, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _decode(meta["value"], arrays)
    import xarray as xr

    data = path.with_suffix(".nc")
    if _sha(data) != meta["sha256"]:
        raise ValueError("data file does not match its checksum")
    with xr.open_dataset(data) as ds:
        ds = ds.load()
    ds.attrs = _decode(meta["attrs"], {})
    if meta["format"] == "dataarray":
        return ds["__dataarray__"].rename(meta.get("name"))
    return ds


def cached(name: str, compute: Callable[[], Any], *, solver=None, portable: bool = False,
           **params) -> Any:
    """Return ``compute()``, stored on disk under (``name``, ``params``, the solver's code).

    Parameters
    ----------
    name : str
        What is computed (e.g. ``"exact.steady_state"``); also the sub-directory.
    compute : callable
        Called without arguments on a miss.
    solver : str, module or sequence of them, optional
        The ``ddlib`` module(s) whose code computes the value (e.g. ``"ddlib.mfqf"``); their
        source and that of the ddlib modules they import key the entry. Default: derived
        from ``compute`` or ``name`` (see the module docstring), else the whole package.
    portable : bool, default False
        Raise ``TypeError`` for a value that cannot be stored portably instead of keeping it
        in memory (with an :class:`UnportableWarning`).
    **params
        Everything the value depends on (models, lattices, option dataclasses, numbers).
    """
    _check_name(name)
    if not callable(compute):
        raise TypeError(f"compute must be callable, got {type(compute).__name__}")
    root = cache_dir()
    if root is None:
        return compute()
    key = make_key(name, solver=_solver_of(name, compute, solver), **params)
    if key in _MEMORY:
        return _MEMORY[key]
    path = root / name / hashlib.sha256(key.encode()).hexdigest()[:32]
    try:
        return load(path, key)
    except Exception:  # noqa: BLE001 - missing, corrupt, stale or foreign entry: recompute
        pass
    value = compute()
    try:
        save(path, value, key)
    except TypeError as err:
        if portable:
            raise
        warnings.warn(f"{name}: {err}; kept in memory for this process only",
                      UnportableWarning, stacklevel=2)
        _MEMORY[key] = value
    return value
