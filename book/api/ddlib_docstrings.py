"""Sphinx extension for the API pages: ddlib's docstrings are written for ``help()`` first.

Two things, both only for docstrings of ``ddlib`` objects (never for the chapters):

* Unicode prose such as ``|↑⟩``, ``|R|`` or ``shape (3, 3, *lattice.shape)`` is plain text in
  a terminal but reStructuredText markup (substitution references, emphasis) to Sphinx. Bars
  and lone asterisks outside literals, roles and ``.. math::`` blocks are escaped, so they
  print as written.
* Any remaining docutils complaint located in a ddlib docstring is logged as information
  (listed at the end of the build) instead of a warning, so that ``-W`` keeps failing the
  build for the chapters, cross-references and the pages themselves, while a markup slip in
  a solver's docstring is reported without blocking the book.
"""

from __future__ import annotations

import logging
import re

_LITERAL = re.compile(r"(:[\w:+-]+:`[^`]*`|``[^`]*``|`[^`]*`_?)")
_EMPHASIS = re.compile(r"(?<![\w*\\])\*(?=[^\s*])[^*]*?(?<=[^\s\\])\*(?![\w*])")
_STRONG = re.compile(r"\*\*[^*]+\*\*")
_VERBATIM = (".. math::", ".. code", ".. code-block::", ".. sourcecode::", ".. doctest")
_FLAGGED: list[str] = []


def _escape_text(text: str) -> str:
    """Escape ``|`` and asterisks that do not open or close an emphasis (or strong) span."""
    text = re.sub(r"\|(?!\s)", r"\\|", text)  # "| " at a line start is a line block
    keep = [m.span() for m in _STRONG.finditer(text)] + [m.span() for m in
                                                          _EMPHASIS.finditer(text)]
    kept = {i for a, b in keep for i in (a, a + 1, b - 2, b - 1)}
    return "".join(r"\*" if c == "*" and i not in kept and text[i - 1:i] != "\\"
                   and text[i + 1:i + 2].strip() and text[i + 1:i + 2] != "*" else c
                   for i, c in enumerate(text))  # "* " (a bullet) is no emphasis start


def _escape_line(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else _escape_text(p) for i, p in enumerate(parts))


def escape_docstring(lines: list[str]) -> list[str]:
    """The docstring lines with bars and lone asterisks escaped outside literal contexts."""
    out, block_indent = [], None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = None
        if block_indent is not None and indent > block_indent:
            out.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith(_VERBATIM) or stripped.endswith("::"):
            block_indent = indent  # maths, code or a literal block: its body stays as is
        if stripped.startswith(("..", ">>>", "...")) or stripped.endswith("::") or (
                stripped and set(stripped) <= set("=- ")):
            out.append(line)
            continue
        out.append(_escape_line(line))
    return out


def _process(app, what, name, obj, options, lines):
    if name.startswith("ddlib"):
        lines[:] = escape_docstring(lines)


class _DocstringFilter(logging.Filter):
    def filter(self, record):
        location = str(getattr(record, "location", "") or "")
        if record.levelno >= logging.WARNING and "docstring of ddlib" in location:
            _FLAGGED.append(f"{location}: {record.getMessage()}")
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _summary(app, exception):
    if _FLAGGED:
        from sphinx.util import logging as sphinx_logging

        log = sphinx_logging.getLogger(__name__)
        log.info("ddlib docstring markup to fix (%d, not counted as warnings):\n  %s",
                 len(_FLAGGED), "\n  ".join(_FLAGGED))


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.napoleon")
    app.connect("autodoc-process-docstring", _process, priority=900)  # after napoleon (500)
    logging.getLogger("sphinx.sphinx.util.docutils").addFilter(_DocstringFilter())
    app.connect("build-finished", _summary)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
