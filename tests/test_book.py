"""Every chapter of the book executes in its fast profile (papermill over the MyST source)."""

import os
from pathlib import Path

import pytest
import yaml

from ddlib.paper.rerun import BOOK, THREAD_VARIABLES, execute

ROOT = BOOK.parent


def _toc_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]
    return [Path(f).stem for f in files]


def test_toc_lists_every_chapter_once():
    chapters = _toc_chapters()
    assert len(chapters) == len(set(chapters))
    assert sorted(chapters) == sorted(p.stem for p in BOOK.glob("*.md"))


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("chapter", [c for c in _toc_chapters() if c != "intro"])
def test_chapter_executes_in_fast_profile(chapter, tmp_path):
    nb = execute(chapter, {"profile": "fast"}, tmp_path, progress=False)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert (tmp_path / f"{chapter}.ipynb").is_file()


@pytest.mark.book
def test_rerun_gives_the_kernel_one_thread_unless_told_otherwise(tmp_path, monkeypatch):
    """The kernel inherits os.environ: unset thread variables become 1, set ones are kept."""
    kept, *unset = THREAD_VARIABLES
    monkeypatch.setenv(kept, "2")
    for var in unset:
        monkeypatch.delenv(var, raising=False)
    execute("model", {"profile": "fast"}, tmp_path, progress=False)
    assert os.environ[kept] == "2" and all(os.environ[var] == "1" for var in unset)
