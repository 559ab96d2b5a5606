"""Thin re-export of :mod:`ddlib.paper.rerun`, so ``python -m ddlib.rerun`` keeps working."""

import sys

from ddlib.paper.rerun import (
    BOOK,
    THREAD_VARIABLES,
    Parameter,
    chapter_path,
    chapters,
    check,
    execute,
    figures,
    main,
    parameters,
)

__all__ = ["BOOK", "THREAD_VARIABLES", "Parameter", "chapter_path", "chapters", "check",
           "execute", "figures", "main", "parameters"]

if __name__ == "__main__":
    sys.exit(main())
