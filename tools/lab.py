"""Start JupyterLab for the course: what `make lab` runs, and what the browser tests start.

    python tools/lab.py [extra jupyter lab options]

It opens on the first chapter, and prepares this environment (never the user's own
settings, all under ``sys.prefix``, that is `.venv`):

- a double-click on a chapter's `.md` opens it as a notebook (jupytext's "Jupytext
  Notebook" viewer, with the outputs of the paired `.ipynb`) instead of as plain text;
- the "Would you like to get notified about official Jupyter news?" pop-up is off;
- the course's own notebooks are trusted, so their stored widgets (the chapters'
  controls) show before anything is run. JupyterLab renders widget outputs only for
  trusted notebooks and shows an untrusted notebook's widgets as their text repr
  (`VBox(children=...)`); trust is a signature kept in a local database, which a
  fresh clone does not have. The notebooks are signed into a database of this
  environment, which the server is pointed at.

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
FOLDERS = ("theory", "lab", "solutions", "quiz")
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"
NOTIFICATIONS = "@jupyterlab/apputils-extension:notification"
SETTINGS = {
    DOCMANAGER: {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}},
    NOTIFICATIONS: {"fetchNews": "false", "checkForUpdates": False},
}
VIEWERS = SETTINGS[DOCMANAGER]["defaultViewers"]


def _write_json_atomically(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as tmp:
        json.dump(data, tmp, indent=2)
    os.replace(tmp.name, path)


def install_settings(prefix=sys.prefix):
    """Merge SETTINGS into <prefix>/share/jupyter/lab/settings/overrides.json (atomically), keeping the rest."""
    path = pathlib.Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    merged = {**settings, **{plugin: {**settings.get(plugin, {}), **values} for plugin, values in SETTINGS.items()}}
    if merged != settings:
        _write_json_atomically(path, merged)
    return path


install_default_viewers = install_settings  # the earlier name, still used by callers


def notary_dir(prefix=sys.prefix):
    """Where this environment keeps its notebook signatures (and the secret they are signed with)."""
    return pathlib.Path(prefix) / "share" / "jupyter" / "minimodel-trust"


def trust_course_notebooks(prefix=sys.prefix, root=ROOT):
    """Sign every paired `.ipynb` of the course folders in this environment's notary; returns how many.

    These are the repository's own executed notebooks (their outputs come from its own
    code, which `make lab` runs anyway). A notebook the learner edits and saves is
    re-signed by the server; one whose signature no longer matches is untrusted again.
    """
    import nbformat
    from nbformat.sign import NotebookNotary

    folder = notary_dir(prefix)
    folder.mkdir(parents=True, exist_ok=True)
    notary = NotebookNotary(data_dir=str(folder))
    signed = 0
    try:
        for ipynb in sorted(p for f in FOLDERS for p in (pathlib.Path(root) / f).glob("*.ipynb")):
            if not ipynb.with_suffix(".md").exists():
                continue  # only the course's paired notebooks
            nb = nbformat.read(ipynb, as_version=4)
            if not notary.check_signature(nb):
                notary.sign(nb)
            signed += 1
    finally:
        notary.store.close()
    return signed


def prepare(prefix=sys.prefix):
    """Everything `make lab` sets up before starting the server."""
    install_settings(prefix)
    trust_course_notebooks(prefix)


def lab_command(*extra, prefix=sys.prefix):
    """The `jupyter lab` command line, rooted at the repository and opening on the first chapter."""
    # JupyterLab refuses to run as root unless told; containers and CI machines often are root.
    allow_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}",
            f"--LabApp.default_url=/lab/tree/{FIRST_CHAPTER}", f"--NotebookNotary.data_dir={notary_dir(prefix)}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *allow_root, *extra]


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
    prepare()
    command = lab_command(*sys.argv[1:])
    os.execv(command[0], command)
