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
