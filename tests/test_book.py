"""The book's structure and its reruns, without executing a chapter.

The chapters execute once, in CI's ``jupyter-book build`` (``.ci/run``); ``tests/test_html.py``
checks what that build produced. Here: the table of contents, the ``parameters`` cells, and
``python -m ddlib.rerun`` refusing bad input before a kernel starts.
"""

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from ddlib.paper import rerun
from ddlib.paper.profiles import PROFILES
from ddlib.paper.rerun import (
    BOOK,
    THREAD_VARIABLES,
    chapter_path,
    chapters,
    check,
    execute,
    parameters,
)

ROOT = BOOK.parent


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for entry in toc.get("chapters", []) + [e for p in toc.get("parts", [])
                                             for e in p.get("chapters", [])]:
        files.append(entry["file"])
        files += [s["file"] for s in entry.get("sections", [])]
    return files


def _toc_chapters():
    return [Path(f).stem for f in _toc_files() if Path(f).parent.name == "book"]


def test_toc_lists_every_chapter_once():
    chapters = _toc_chapters()
    assert len(chapters) == len(set(chapters))
    assert sorted(chapters) == sorted(p.stem for p in BOOK.glob("*.md"))


def test_toc_lists_every_api_page():
    pages = {Path(f).name for f in _toc_files() if Path(f).parent.name == "api"}
    assert pages == {p.stem for p in (BOOK / "api").glob("*.md")}


@pytest.mark.parametrize("chapter", chapters())
def test_parameters_cell_holds_literals_and_a_known_profile(chapter):
    params = parameters(chapter)
    assert params["profile"].default == "fast"
    assert set(PROFILES[chapter]) >= {"fast", "paper"}
    assert all(p.comment for p in params.values()), "every parameter says what it is"


def _run(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ddlib.rerun", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_rerun_refuses_a_misspelt_parameter_before_executing(tmp_path):
    out = tmp_path / "jz6"
    res = _run("book/multistability.md", "-p", "JZZ", "6", "-p", "profile", "paper",
               "-o", str(out))
    assert res.returncode != 0
    assert "'JZZ'" in res.stderr and "JZ = 4.0" in res.stderr  # the defaults are listed
    assert not out.exists(), "nothing was executed or written"


@pytest.mark.parametrize("overrides, error, words", [
    ({"JZ": "6"}, TypeError, "JZ"),
    ({"Omega": True}, TypeError, "Omega"),
    ({"profile": "papr"}, ValueError, "profile"),
    ({"no_such_name": 1}, ValueError, "no_such_name"),
])
def test_check_refuses_wrong_type_unknown_profile_and_unknown_name(overrides, error, words):
    with pytest.raises(error, match=words):
        check("multistability", overrides)


def test_check_accepts_an_int_for_a_float_and_a_tuple_for_a_list():
    assert check("multistability", {"JZ": 6, "profile": "paper"}) == {"JZ": 6.0,
                                                                      "profile": "paper"}
    assert check("bimodality", {"Deltas_1a": (3, 3.5)}) == {"Deltas_1a": (3, 3.5)}
    with pytest.raises(TypeError, match="Deltas_1a"):
        check("bimodality", {"Deltas_1a": [3.0, "x"]})


def test_rerun_list_prints_the_parameters_with_defaults():
    res = _run("--list", "book/ising.md")
    assert res.returncode == 0, res.stderr
    assert "profile = 'fast'" in res.stdout and "JzZ_values = (-4.0, -6.0)" in res.stdout


def test_chapter_given_as_name_or_path(tmp_path, monkeypatch):
    assert chapter_path("multistability") == chapter_path("book/multistability.md") \
        == BOOK / "multistability.md"
    monkeypatch.chdir(BOOK)
    assert chapter_path("multistability.md") == BOOK / "multistability.md"
    with pytest.raises(ValueError, match="chapter"):
        chapter_path("book/no_such_chapter.md")


@pytest.fixture
def fake_papermill(monkeypatch):
    """papermill.execute_notebook replaced by a stub: the notebook comes back with one figure."""
    import papermill

    calls = {}
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()

    def stub(nb, output_path, *, parameters, cwd, **kwargs):
        calls.update(parameters=parameters, cwd=cwd,
                     env={v: os.environ.get(v) for v in THREAD_VARIABLES})
        cell = nbformat.v4.new_code_cell("plot()")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png})]
        nb.cells.append(cell)
        nbformat.write(nb, output_path)
        return nb

    monkeypatch.setattr(papermill, "execute_notebook", stub)
    return calls


def test_rerun_writes_the_notebook_and_each_figure_as_png(tmp_path, fake_papermill):
    out = tmp_path / "jz6"
    (out / "multistability_fig07.png").parent.mkdir()
    (out / "multistability_fig07.png").write_bytes(b"stale")
    assert rerun.main(["book/multistability.md", "-p", "JZ", "6", "-p", "profile", "paper",
                       "-o", str(out)]) == 0
    assert fake_papermill["parameters"] == {"JZ": 6.0, "profile": "paper"}
    assert fake_papermill["cwd"] == str(BOOK)
    assert (out / "multistability.ipynb").is_file()
    assert sorted(p.name for p in out.glob("*.png")) == ["multistability_fig01.png"]
    assert (out / "multistability_fig01.png").read_bytes().startswith(b"\x89PNG")


def test_rerun_gives_the_kernel_one_thread_unless_told_otherwise(tmp_path, monkeypatch,
                                                                 fake_papermill):
    """The kernel inherits os.environ: unset thread variables become 1, set ones are kept."""
    kept, *unset = THREAD_VARIABLES
    monkeypatch.setenv(kept, "2")
    for var in unset:
        monkeypatch.delenv(var, raising=False)
    execute("model", {"profile": "fast"}, tmp_path, progress=False)
    assert fake_papermill["env"] == {kept: "2", **{var: "1" for var in unset}}


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_ends_with_exercises_whose_solutions_hide_behind_a_click(chapter):
    text = (BOOK / f"{chapter}.md").read_text()
    assert "\n## Exercises\n" in text
    last = text.rsplit("\n## ", 1)[1]
    assert last.startswith("Exercises"), "the exercises are the chapter's last section"
    labels = re.findall(r"```\{exercise\}\n:label: (\S+)", last)
    assert 2 <= len(labels) <= 3
    for label in labels:
        assert f"```{{solution-start}} {label}\n:class: dropdown\n" in last, label
    assert last.count("```{solution-end}") == len(labels)


def test_api_docstring_escapes_keep_markup_and_maths():
    """book/api/ddlib_docstrings.py: bars and lone asterisks of prose print as written."""
    sys.path.insert(0, str(BOOK / "api"))
    try:
        from ddlib_docstrings import escape_docstring
    finally:
        sys.path.remove(str(BOOK / "api"))
    lines = ["Basis (|↑⟩, |↓⟩), distance |R| ≥ 2, shape (3, 3, *lattice.shape).",
             "* a bullet with *emphasis* and **strong** and ``|literal|`` and :math:`|x|`",
             ".. math::", "", "    |\\mu| = *a*", "after"]
    out = escape_docstring(lines)
    assert out[0] == ("Basis (\\|↑⟩, \\|↓⟩), distance \\|R| ≥ 2, "
                      "shape (3, 3, \\*lattice.shape).")
    assert out[1] == lines[1]
    assert out[2:5] == lines[2:5]
    assert out[5] == "after"


# What a chapter may read from the archive without comparing its options with the chapter's
# parameters: the archive's and the reproduction's pages are about the archive itself; the
# MPO convergence study is drawn at its own parameters (its caption glues them); fig2_mpo's
# provenance times the MPO cost, and the chain's exercise reads it by name.
UNMATCHED = {"archive": "*", "reproduction": "*",
             "mpo": {"mpo_convergence", "mpo_convergence_high", "fig2_mpo"},
             "chain": {"fig2_mpo"}}


def _archive_reads(chapter):
    """(function, entry name or None, has match=) for every call that reads an archive entry
    in the chapter's code cells: ``archived``/``load_archived``/``not_drawn`` and
    ``archive.load``."""
    import ast

    import jupytext

    nb = jupytext.read(chapter_path(chapter))
    trees = [ast.parse(c.source) for c in nb.cells if c.cell_type == "code"]
    # a function the chapter defines itself (multistability's drawing helper `archived`)
    own = {n.name for t in trees for n in ast.walk(t) if isinstance(n, ast.FunctionDef)}
    reads = []
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (
                f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name) else None)
            if name in ("archived", "load_archived", "not_drawn", "archive.load") \
                    and name not in own:
                entry = (node.args[0].value if node.args and isinstance(node.args[0], ast.Constant)
                         else None)
                reads.append((name, entry, any(k.arg == "match" for k in node.keywords)))
    return reads


@pytest.mark.parametrize("chapter", chapters())
def test_archived_data_is_drawn_only_at_the_chapters_parameters(chapter):
    """A chapter reads an archived entry beside its own computation only through
    ``reproduction.archived(..., match=...)`` (and says why with ``not_drawn(..., match=...)``),
    so that a rerun at other physical parameters does not draw the paper's curves beside its
    own; the exceptions are listed in UNMATCHED."""
    allowed = UNMATCHED.get(chapter, set())
    if allowed == "*":
        return
    for fn, entry, matched in _archive_reads(chapter):
        assert matched or entry in allowed, (
            f"{chapter}: {fn}({entry!r}) reads an archived entry without match=")
