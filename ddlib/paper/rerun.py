"""Rerun one chapter of the book with other parameters (papermill over the MyST source).

Command line::

    python -m ddlib.rerun CHAPTER [-p NAME VALUE]... [-o DIR]
    python -m ddlib.rerun --list CHAPTER

``CHAPTER`` is a name (``multistability``) or the path of a chapter file
(``book/multistability.md``). For example ::

    python -m ddlib.rerun book/multistability.md -p JZ 6 -p profile paper -o runs/jz6/

writes the executed notebook ``runs/jz6/multistability.ipynb`` and every figure of it as
``runs/jz6/multistability_fig01.png``, ``..._fig02.png``, ... Values are read as Python
literals (``0.5``, ``True``, ``[1, 2]``); a parameter whose default is a string takes the text
as given.

The parameters are checked before anything executes: the cell tagged ``parameters`` is read
from the MyST source (``jupytext.read``) and parsed with :mod:`ast`, without a kernel. An
unknown name, a value whose type differs from the default's (an integer is accepted where the
default is a float, a tuple where it is a list) or an unknown ``profile``
(:data:`ddlib.paper.profiles.PROFILES`) is refused with the chapter's parameters and their
defaults, and the command exits with status 2. From Python::

    from ddlib.paper.rerun import execute
    nb = execute("mfqf_derivation", {"profile": "fast"}, "out/")

The chapters are MyST markdown (jupytext); papermill does not read them directly, so the source
is converted in memory and handed to ``papermill.execute_notebook``, which injects the
parameters after the cell tagged ``parameters``. The chapter's kernel gets one thread per BLAS,
OpenMP and MKL library (:data:`THREAD_VARIABLES`) unless the environment already sets them, as
the tests and the README's book build do.
"""

from __future__ import annotations

import argparse
import ast
import base64
import os
import sys
from dataclasses import dataclass
from pathlib import Path

BOOK = Path(__file__).resolve().parents[2] / "book"

__all__ = ["BOOK", "THREAD_VARIABLES", "Parameter", "chapter_path", "chapters", "check",
           "execute", "figures", "main", "parameters"]

#: Set to 1 for the kernel unless already set: with one thread per core, a chapter's threaded
#: sparse solves (MKL PARDISO) slowed down more than tenfold whenever another job held a
#: core of the 2-core machine (README).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Parameter:
    """One assignment of a chapter's ``parameters`` cell: ``name = default  # comment``."""

    name: str
    default: object
    comment: str = ""


def chapters() -> list[str]:
    """Names of the chapters that can be rerun: the notebooks (``book/*.md`` with code cells)."""
    return sorted(p.stem for p in BOOK.glob("*.md") if "```{code-cell}" in p.read_text())


def chapter_path(chapter: str | Path) -> Path:
    """The MyST file of ``chapter``: a name of :func:`chapters` or the path of a ``.md`` file.

    Raises
    ------
    ValueError
        If ``chapter`` is neither.
    """
    if not isinstance(chapter, str | os.PathLike):
        raise TypeError(f"chapter must be a name or a path, got {type(chapter).__name__}")
    path = Path(chapter)
    if path.suffix == ".md" and path.is_file():
        return path.resolve()
    if path.suffix == "" and (BOOK / f"{chapter}.md").is_file():
        return BOOK / f"{chapter}.md"
    raise ValueError(f"chapter must be one of {chapters()} or the path of a chapter's .md "
                     f"file, got {str(chapter)!r}")


def parameters(chapter: str | Path) -> dict[str, Parameter]:
    """The assignments of the chapter's cell tagged ``parameters``, in order, without a kernel.

    Every right-hand side must be a Python literal (``ast.literal_eval``); a chapter without a
    ``parameters`` cell has none.
    """
    import jupytext

    path = chapter_path(chapter)
    nb = jupytext.read(path)
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return {}
    source = cells[0].source
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        line = lines[node.end_lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        above = node.lineno - 2
        while not comment and above >= 0 and lines[above].lstrip().startswith("#"):
            above -= 1  # no comment on the line: take the block of comment lines above it
        if not comment:
            comment = " ".join(ln.strip().lstrip("#").strip()
                               for ln in lines[above + 1:node.lineno - 1])
        found[name] = Parameter(name, ast.literal_eval(node.value), comment)
    return found


def _profiles(path: Path) -> list[str]:
    from ddlib.paper.profiles import PROFILES

    if path.stem in PROFILES:
        return sorted(PROFILES[path.stem])
    return sorted({p for table in PROFILES.values() for p in table})


def _compatible(value, default) -> bool:
    """Whether ``value`` may replace ``default``: same type, int for float, list for tuple."""
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        if not isinstance(value, list | tuple):
            return False
        kinds = {type(d) for d in default}
        if len(kinds) == 1 and default:  # a homogeneous default constrains the elements
            return all(_compatible(v, default[0]) for v in value)
        return True
    return isinstance(value, type(default))


def check(chapter: str | Path, overrides: dict | None) -> dict:
    """Validate ``overrides`` against the chapter's ``parameters`` cell, before any execution.

    Returns
    -------
    dict
        The overrides, with integers given for float parameters made floats.

    Raises
    ------
    ValueError
        For an unknown chapter, an unknown parameter name or an unknown ``profile``.
    TypeError
        For a value whose type differs from the default's.
    """
    path = chapter_path(chapter)
    if overrides is not None and not isinstance(overrides, dict):
        raise TypeError(f"overrides must be a dict of parameter name to value, "
                        f"got {type(overrides).__name__}")
    known = parameters(path)
    checked = {}
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ValueError(f"{path.stem} has no parameter {name!r}; its parameters are "
                             f"{list(known) or 'none'}")
        default = known[name].default
        if not _compatible(value, default):
            raise TypeError(f"parameter {name!r} of {path.stem} must be like its default "
                            f"{default!r} ({type(default).__name__}), got {value!r} "
                            f"({type(value).__name__})")
        if name == "profile" and value not in (allowed := _profiles(path)):
            raise ValueError(f"parameter 'profile' must be one of {allowed}, got {value!r}")
        checked[name] = float(value) if isinstance(default, float) else value
    return checked


def figures(nb, output_dir: str | Path, stem: str) -> list[Path]:
    """Write every ``image/png`` output of the notebook ``nb`` as ``<stem>_figNN.png``.

    Figures of an earlier run in ``output_dir`` under the same stem are removed first.
    """
    if not hasattr(nb, "cells"):
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode), got {type(nb).__name__}")
    if not isinstance(stem, str) or not stem or "/" in stem:
        raise ValueError(f"stem must be a non-empty file name stem, got {stem!r}")
    output_dir = Path(output_dir)
    for old in output_dir.glob(f"{stem}_fig[0-9]*.png"):
        old.unlink()
    written = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            png = output.get("data", {}).get("image/png")
            if png:
                path = output_dir / f"{stem}_fig{len(written) + 1:02d}.png"
                path.write_bytes(base64.b64decode(png))
                written.append(path)
    return written


def execute(chapter: str | Path, parameters: dict | None = None,
            output_dir: str | Path = ".", *, progress: bool = True):
    """Execute a chapter with ``parameters``; save the notebook and its figures.

    ``chapter`` is a name or the path of a chapter's ``.md`` file. The parameters are checked
    (:func:`check`) before the kernel starts. Writes ``<output_dir>/<chapter>.ipynb`` and every
    figure as ``<output_dir>/<chapter>_figNN.png``. The kernel runs with
    :data:`THREAD_VARIABLES` set to 1 where the environment leaves them unset (they are set
    in ``os.environ``, which the kernel inherits) and in the chapter's folder.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    ValueError, TypeError
        From :func:`check`, before anything executes.
    papermill.PapermillExecutionError
        If a cell fails (the saved notebook shows where).
    """
    path = chapter_path(chapter)
    checked = check(path, parameters)
    import jupytext
    import papermill

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(path)
    for var in THREAD_VARIABLES:  # the kernel inherits this process's environment
        os.environ.setdefault(var, "1")
    nb = papermill.execute_notebook(nb, str(output_dir / f"{path.stem}.ipynb"),
                                    parameters=checked, cwd=str(path.parent),
                                    progress_bar=progress, kernel_name="python3")
    figures(nb, output_dir, path.stem)
    return nb


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _listing(chapter) -> str:
    params = parameters(chapter)
    if not params:
        return f"{chapter_path(chapter).stem} has no parameters"
    width = max(len(f"{p.name} = {p.default!r}") for p in params.values())
    rows = [f"  {f'{p.name} = {p.default!r}':<{width}}  # {p.comment}".rstrip(" #")
            for p in params.values()]
    return f"parameters of {chapter_path(chapter).stem} (defaults):\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (``python -m ddlib.rerun``); returns the exit status."""
    if argv is not None and (isinstance(argv, str) or not all(isinstance(a, str) for a in argv)):
        raise TypeError(f"argv must be a list of strings, got {argv!r}")
    parser = argparse.ArgumentParser(prog="python -m ddlib.rerun", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", nargs="?",
                        help="chapter name (one of: " + ", ".join(chapters()) + ") or the "
                             "path of a chapter's .md file")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="override a parameter")
    parser.add_argument("-o", "--output-dir", default=".",
                        help="where to write CHAPTER.ipynb and CHAPTER_figNN.png")
    parser.add_argument("--list", action="store_true",
                        help="print the chapter's parameters with their defaults and exit")
    args = parser.parse_args(argv)
    if args.chapter is None:
        parser.error("give a chapter, one of: " + ", ".join(chapters()))
    try:
        path = chapter_path(args.chapter)
    except ValueError as err:
        parser.error(str(err))
    if args.list:
        print(_listing(path))
        return 0
    known = parameters(path)
    overrides = {}
    for name, text in args.parameter:
        default = known[name].default if name in known else None
        overrides[name] = text if isinstance(default, str) else _literal(text)
    try:
        checked = check(path, overrides)
    except (ValueError, TypeError) as err:
        print(f"{parser.prog}: error: {err}\n\n{_listing(path)}", file=sys.stderr)
        return 2
    import papermill

    try:
        execute(path, checked, args.output_dir)
    except papermill.PapermillExecutionError as err:
        print(f"{parser.prog}: a cell of {path.stem} failed ({err.ename}: {err.evalue}); "
              f"see {Path(args.output_dir) / (path.stem + '.ipynb')}", file=sys.stderr)
        return 1
    pngs = sorted(Path(args.output_dir).glob(f"{path.stem}_fig*.png"))
    print(f"wrote {Path(args.output_dir) / (path.stem + '.ipynb')} and {len(pngs)} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
