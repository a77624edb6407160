"""Start JupyterLab for the course: what `make lab` runs, and what the browser tests start.

    python tools/lab.py [extra jupyter lab options]

It opens on the first chapter, and makes a double-click on a chapter's `.md` open it
as a notebook (jupytext's "Jupytext Notebook" viewer, with the outputs of the paired
`.ipynb`) instead of as plain text: that setting is written to this environment's
JupyterLab `overrides.json`, never to the user's own settings.
"""

import json
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIRST_CHAPTER = "theory/00-motivation.md"
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"
VIEWERS = {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}


def install_default_viewers(prefix=sys.prefix):
    """Merge VIEWERS into <prefix>/share/jupyter/lab/settings/overrides.json (atomically)."""
    path = pathlib.Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if settings.get(DOCMANAGER, {}).get("defaultViewers") == VIEWERS:
        return path
    settings.setdefault(DOCMANAGER, {})["defaultViewers"] = VIEWERS
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as tmp:
        json.dump(settings, tmp, indent=2)
    os.replace(tmp.name, path)
    return path


def lab_command(*extra):
    """The `jupyter lab` command line, rooted at the repository and opening on the first chapter."""
    # JupyterLab refuses to run as root unless told; containers and CI machines often are root.
    allow_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}",
            f"--LabApp.default_url=/lab/tree/{FIRST_CHAPTER}", *allow_root, *extra]


if __name__ == "__main__":
    install_default_viewers()
    command = lab_command(*sys.argv[1:])
    os.execv(command[0], command)
