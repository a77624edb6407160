"""Start JupyterLab for the course: what `make lab` runs, and what the browser tests start.

    python tools/lab.py [extra jupyter lab options]

It opens on the first chapter, and makes a double-click on a chapter's `.md` open it
as a notebook (jupytext's "Jupytext Notebook" viewer, with the outputs of the paired
`.ipynb`) instead of as plain text: that setting is written to this environment's
JupyterLab `overrides.json`, never to the user's own settings.

On its first run it also creates the learner's workspace, `work/` (git-ignored), with
a copy of every lab; later runs add only labs that are missing there and never
overwrite a file, so the learner's answers survive `git pull`.
"""

import json
import os
import pathlib
import sys
import tempfile

from minimodel.labwork import WORKSPACE, create_workspace

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


def prepare_workspace(root=ROOT, out=sys.stdout):
    """Create work/ with the labs the learner does not have yet, and say where to work."""
    created = create_workspace(root)
    new = sorted({p.stem for p in created})
    if new:
        out.write(f"Created your workspace {WORKSPACE}/ with: {', '.join(new)}.\n")
    out.write(f"Do the labs in {WORKSPACE}/ (your copies, never overwritten, ignored by git); lab/ is the "
              "course's pristine version.\nSee your progress with: make check\n")


if __name__ == "__main__":
    prepare_workspace()
    install_default_viewers()
    command = lab_command(*sys.argv[1:])
    os.execv(command[0], command)
