"""Rerun one chapter of the book with other parameters (papermill over the MyST source).

Command line::

    python -m ddlib.rerun CHAPTER [-p NAME VALUE]... [-o DIR]

e.g. ``python -m ddlib.rerun bimodality -p profile paper -o out/`` writes the executed
notebook ``out/bimodality.ipynb``. Values are read as Python literals where they parse
(``0.5``, ``True``, ``[1, 2]``) and as strings otherwise. From Python::

    from ddlib.paper.rerun import execute
    nb = execute("mfqf_derivation", {"profile": "fast"}, "out/")

The chapters are MyST markdown (jupytext); papermill does not read them directly, so the source
is converted in memory (``jupytext.read``) and handed to ``papermill.execute_notebook``, which
injects the parameters after the cell tagged ``parameters``. The chapter's kernel gets one
thread per BLAS, OpenMP and MKL library (:data:`THREAD_VARIABLES`) unless the environment
already sets them, as the tests and the README's book build do.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[2] / "book"

__all__ = ["BOOK", "THREAD_VARIABLES", "chapters", "execute", "main"]

#: Set to 1 for the kernel unless already set: with one thread per core, a chapter's threaded
#: sparse solves (MKL PARDISO) slowed down more than tenfold whenever another job held a
#: core of the 2-core machine (README).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def chapters() -> list[str]:
    """Names of the chapters (``book/*.md``) that can be rerun."""
    return sorted(p.stem for p in BOOK.glob("*.md"))


def execute(chapter: str, parameters: dict | None = None, output_dir: str | Path = ".",
            *, progress: bool = True):
    """Execute ``book/<chapter>.md`` with ``parameters`` and save ``<output_dir>/<chapter>.ipynb``.

    The kernel runs with :data:`THREAD_VARIABLES` set to 1 where the environment leaves them
    unset (they are set in ``os.environ``, which the kernel inherits).

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook.

    Raises
    ------
    ValueError
        For an unknown chapter.
    papermill.PapermillExecutionError
        If a cell fails (the saved notebook shows where).
    """
    import jupytext
    import papermill

    source = BOOK / f"{chapter}.md"
    if not source.is_file():
        raise ValueError(f"chapter must be one of {chapters()}, got {chapter!r}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    for var in THREAD_VARIABLES:  # the kernel inherits this process's environment
        os.environ.setdefault(var, "1")
    return papermill.execute_notebook(nb, str(output_dir / f"{chapter}.ipynb"),
                                      parameters=parameters or {}, cwd=str(BOOK),
                                      progress_bar=progress, kernel_name="python3")


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ddlib.rerun", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", help="chapter name, one of: " + ", ".join(chapters()))
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="override a parameter")
    parser.add_argument("-o", "--output-dir", default=".", help="where to write CHAPTER.ipynb")
    args = parser.parse_args(argv)
    params = {name: _literal(value) for name, value in args.parameter}
    try:
        execute(args.chapter, params, args.output_dir)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {Path(args.output_dir) / (args.chapter + '.ipynb')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
