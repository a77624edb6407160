"""Fixtures for the browser tests: a JupyterLab server and headless Chromium, always stopped.

The server is started the way `make lab` starts it (tools/lab.py), in a temporary
HOME, on 127.0.0.1 with a random free port and a token. Chromium is Debian's
(`/usr/bin/chromium`), driven by Playwright for Python.

Without Chromium or Playwright the browser tests are skipped with a message that
says how to install them, except when MINIMODEL_BROWSER_TESTS=1 (set by .ci/run):
then they fail, so CI can never pass without having run them.
"""

import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import lab  # noqa: E402  (tools/lab.py: the command `make lab` runs)

REQUIRED = os.environ.get("MINIMODEL_BROWSER_TESTS") == "1"
CHROMIUM = os.environ.get("MINIMODEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
HOW_TO_INSTALL = ("install Debian's Chromium with `sudo apt-get install chromium` (or point MINIMODEL_CHROMIUM at "
                  "a Chromium binary) and Playwright with `make setup`")
# Every control change's latency, (notebook, phase, control, seconds), printed at the end of the run.
LATENCIES = []
LATENCY_GOAL = "goal: median <= 100 ms, worst <= 250 ms"
# Chapters reopened because the widget manager lost the race with their stored state (see test_jupyterlab.py).
RESTORE_RACES = []
SCREENSHOTS = pathlib.Path(tempfile.mkdtemp(prefix="minimodel-screenshots-"))
PROGRESS = pathlib.Path(tempfile.mkdtemp(prefix="minimodel-progress-")) / "quiz.jsonl"


def _missing_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}"
    return None


@pytest.fixture(scope="session")
def chromium_path():
    missing = _missing_browser()
    if missing and REQUIRED:
        pytest.fail(f"browser tests are required here (MINIMODEL_BROWSER_TESTS=1) but {missing}: {HOW_TO_INSTALL}")
    if missing:
        pytest.skip(f"browser tests skipped: {missing}; {HOW_TO_INSTALL}")
    return shutil.which(CHROMIUM) or CHROMIUM


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url, server, log, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def lab_server(chromium_path, tmp_path_factory):
    """Base URL and token of a JupyterLab started as `make lab` starts it, in a temporary HOME."""
    home = tmp_path_factory.mktemp("home")
    settings = home / "lab-settings"
    # Autosave off: running every cell makes a notebook dirty, and an autosave
    # would rewrite the repository's committed notebooks.
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    # The news pop-up is off through the environment's overrides.json (tools/lab.py), as under `make lab`.
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               MINIMODEL_PROGRESS=str(PROGRESS))  # a quiz submitted in a test never reaches .progress/
    port, token, log = _free_port(), secrets.token_hex(16), home / "server.log"
    lab.prepare()  # viewers, no news pop-up, the course notebooks trusted: what `make lab` does
    command = lab.lab_command("--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                              f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True")
    with open(log, "w") as log_file:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/api/status?token={token}", server, log)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


FOLDERS = ("theory", "lab", "solutions", "quiz")
NOTEBOOKS = [str(p.relative_to(ROOT)) for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.md"))]
CLOSE = """(path) => {
  for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
    if (!w.context || w.context.path !== path) continue;
    w.context.model.dirty = false;  // the run made it dirty: close without the save dialog
    w.close();
  }
}"""


@pytest.fixture(scope="session")
def lab_page(browser, lab_server):
    """One JupyterLab page for the notebook tests: loading the app once saves seconds per notebook."""
    base, token = lab_server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{base}/lab?reset&token={token}")
        page.wait_for_function("() => !!window.jupyterapp", timeout=60_000)
        page.evaluate("async () => { await window.jupyterapp.restored; }")
        yield page
    finally:
        context.close()


@pytest.fixture
def page(lab_page, lab_server, request):
    """The shared JupyterLab page; afterwards the tested notebook is closed and its kernel shut down.

    The next notebook is opened in a background tab first: its kernel (seconds to start
    here) starts while this test runs.
    """
    path = request.node.callspec.params.get("path") if hasattr(request.node, "callspec") else None
    following = NOTEBOOKS[NOTEBOOKS.index(path) + 1 :] if path in NOTEBOOKS else []
    if following:
        lab_page.evaluate("(path) => { window.jupyterapp.commands.execute('docmanager:open',"
                          " {path, options: {activate: false}}); }", following[0])
    yield lab_page
    if getattr(request.node, "call_failed", False):
        lab_page.screenshot(path=SCREENSHOTS / f"FAILED-{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png")
    if path:
        lab_page.evaluate(CLOSE, path)
        _shut_down_kernels(*lab_server, path=path)


@pytest.fixture
def fresh_page(browser, lab_server, request):
    """A page of its own, for a test that must load JupyterLab from its front door."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


def _shut_down_kernels(base, token, path=None):
    """Shut down the kernel of ``path``'s session, or of every session."""
    headers = {"Authorization": f"token {token}"}
    with urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions", headers=headers)) as response:
        sessions = json.load(response)
    for session in sessions:
        if path is None or session["path"] == path:
            request = urllib.request.Request(f"{base}/api/sessions/{session['id']}", method="DELETE", headers=headers)
            urllib.request.urlopen(request).close()


def _latency_line(label, seconds):
    ms = [1e3 * s for s in seconds]
    return f"{label}: {len(ms)} changes, median {statistics.median(ms):.0f} ms, worst {max(ms):.0f} ms"


def pytest_terminal_summary(terminalreporter):
    if LATENCIES:
        terminalreporter.section("JupyterLab control latency (input event -> new figure loaded)")
        for notebook, phase in dict.fromkeys((n, p) for n, p, _, _ in LATENCIES):
            seconds = [s for n, p, _, s in LATENCIES if (n, p) == (notebook, phase)]
            terminalreporter.write_line(_latency_line(f"{notebook} ({phase})", seconds))
        for phase in dict.fromkeys(p for _, p, _, _ in LATENCIES):
            seconds = [s for _, p, _, s in LATENCIES if p == phase]
            terminalreporter.write_line(_latency_line(f"every control, {phase}", seconds))
        terminalreporter.write_line(_latency_line("every control", [s for *_, s in LATENCIES]) + f" ({LATENCY_GOAL})")
    if LATENCIES or RESTORE_RACES:
        terminalreporter.write_line(f"stored widget state lost to the widget manager's restore race, chapter reopened:"
                                    f" {len(RESTORE_RACES)} time(s) {sorted(set(RESTORE_RACES))}")
    if any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"screenshots of every notebook: {SCREENSHOTS}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed  # read by the page fixture, to keep a screenshot of the failure
    return report
