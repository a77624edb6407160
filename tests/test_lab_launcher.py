"""tools/lab.py: what `make lab` runs (the browser tests start the same command)."""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lab  # noqa: E402


def test_default_viewers_are_merged_into_existing_overrides(tmp_path):
    path = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True)
    theme = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    path.write_text(json.dumps(theme))
    assert lab.install_default_viewers(prefix=tmp_path) == path
    settings = json.loads(path.read_text())
    assert settings[lab.DOCMANAGER]["defaultViewers"] == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    assert settings[lab.NOTIFICATIONS] == {"fetchNews": "false", "checkForUpdates": False}  # no news pop-up
    assert settings["@jupyterlab/apputils-extension:themes"] == theme["@jupyterlab/apputils-extension:themes"]
    before = path.stat().st_mtime_ns
    lab.install_default_viewers(prefix=tmp_path)  # already there: the file is left alone
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in path.parent.iterdir()] == ["overrides.json"]  # no temporary file left behind


def test_lab_command_is_rooted_at_the_repository_and_opens_chapter_00():
    command = lab.lab_command("--no-browser")
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={ROOT}" in command
    assert "--LabApp.default_url=/lab/tree/theory/00-motivation.md" in command
    assert (ROOT / lab.FIRST_CHAPTER).exists()
    assert command[-1] == "--no-browser"
    assert f"--NotebookNotary.data_dir={lab.notary_dir()}" in command  # the environment's trust database


def test_course_notebooks_are_trusted_in_the_environment_only(tmp_path):
    import nbformat
    from nbformat.sign import NotebookNotary

    root, prefix = tmp_path / "repo", tmp_path / "env"
    (root / "theory").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", outputs=[
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)])])
    nbformat.write(nb, root / "theory" / "paired.ipynb")
    nb.cells[0].source = "2 + 0"  # another notebook, with no .md of the course next to it
    nbformat.write(nb, root / "theory" / "stray.ipynb")
    (root / "theory" / "paired.md").write_text("# paired\n")
    assert lab.trust_course_notebooks(prefix=prefix, root=root) == 1
    notary = NotebookNotary(data_dir=str(lab.notary_dir(prefix)))
    try:
        assert notary.check_signature(nbformat.read(root / "theory" / "paired.ipynb", as_version=4))
        assert not notary.check_signature(nbformat.read(root / "theory" / "stray.ipynb", as_version=4))
    finally:
        notary.store.close()
    assert lab.notary_dir(prefix).is_relative_to(prefix)
