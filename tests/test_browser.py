"""Notebook 02's explorer in a real browser: JupyterLab + headless Debian Chromium via Playwright.

Starts a fresh JupyterLab (its own config/runtime/settings folders, so nothing of the user's
leaks in and no kernel is reused) on 127.0.0.1, opens notebook 02 cut after its explorer cell
(nbval runs the whole notebook once already), runs all cells, moves the Otsu slider with the
keyboard and checks that the mask picture and the readout change.
Never downloads a browser: it uses /usr/bin/chromium (``apt-get install chromium``; .ci/run does).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("MAMMOKIT_CHROMIUM", "/usr/bin/chromium"))
NOTEBOOK = ROOT / "notebooks" / "02_preprocessing.ipynb"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter-lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"jupyter-lab did not answer on {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _up_to_the_explorer(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Notebook 02's cells up to and including the one that builds the explorer widget."""
    last = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "PreprocessExplorer(" in c.source)
    nb.cells = nb.cells[:last + 1]
    return nb


@pytest.fixture
def jupyterlab(tmp_path: Path):
    """A JupyterLab server serving a copy of notebook 02; yields its base URL."""
    if not CHROMIUM.exists():
        missing = (f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) "
                   "to run the browser test; CI does this in .ci/run")
        (pytest.fail if os.environ.get("CI") else pytest.skip)(missing)
    bin_dir = Path(sys.executable).parent
    lab = bin_dir / "jupyter-lab"
    if not lab.exists():
        pytest.skip(f"{lab} not found: install jupyterlab in this environment")
    home = tmp_path / "jupyter"
    settings = home / "settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    work = tmp_path / "notebooks"
    work.mkdir()
    nbformat.write(_up_to_the_explorer(nbformat.read(NOTEBOOK, as_version=4)), work / NOTEBOOK.name)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel must use the default inline backend, as a student's does
    env.pop("MAMMOKIT_PREPROCESS", None)  # the explorer starts at the defaults, as a student's does
    env.update({
        "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",  # the kernel runs this environment's python
        "MAMMOKIT_PROFILE": "smoke",
        "MAMMOKIT_DATA": "synthetic",  # the DATA parameter; phantoms land in $MAMMOKIT_DATA_DIR
    })
    port = _free_port()
    log = tmp_path / "jupyter-lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # JupyterLab starts the kernel, as a student's does: the point of this test
            [str(lab), "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
             "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={work}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started, nothing else
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _kernel_idle(base: str) -> bool:
    """True when the server has a session for the notebook whose kernel is idle."""
    try:
        with urllib.request.urlopen(base + "/api/sessions", timeout=2) as response:
            sessions = json.load(response)
    except OSError:
        return False
    return any(s.get("path", "").endswith(NOTEBOOK.name) and s.get("kernel", {}).get("execution_state") == "idle"
               for s in sessions)


def _wait_for_kernel(page, base: str, timeout: float = 90) -> None:
    """Wait until the notebook's kernel is started and idle, accepting JupyterLab's 'Select
    Kernel' dialog (it proposes the notebook's own python3 kernel) when it shows up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog:has-text('Select Kernel') .jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        if _kernel_idle(base) and not page.locator(".jp-Dialog").count():
            return
        page.wait_for_timeout(500)
    pytest.fail(f"the notebook's kernel was not idle within {timeout:.0f} s")


def test_explorer_reacts_to_the_otsu_slider(jupyterlab: str, artifacts_dir: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        try:
            page.goto(f"{jupyterlab}/lab/tree/{NOTEBOOK.name}")
            _wait_for_kernel(page, jupyterlab)
            page.click(".lm-MenuBar-item:has-text('Run')")
            page.click(".lm-Menu-item:has-text('Run All Cells')")
            image = page.locator(".widget-output img").first
            image.wait_for(state="visible", timeout=180_000)
            readout = page.locator(".mk-readouts").first
            readout.wait_for(state="visible", timeout=30_000)
            deadline = time.monotonic() + 180
            while not _kernel_idle(jupyterlab) and time.monotonic() < deadline:  # all cells done
                page.wait_for_timeout(500)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                  has_text="Traceback")
            assert errors.count() == 0, errors.first.inner_text()
            before_src, before_text = image.get_attribute("src"), readout.text_content()
            assert before_src and "threshold" in before_text

            slider = page.locator(".widget-slider", has_text="Otsu offset").first
            handle = slider.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            handle.focus()
            for _ in range(4):  # +20 grey levels, step 5
                handle.press("ArrowRight")
            page.wait_for_function(
                """([src, text]) => {
                    const img = document.querySelector('.widget-output img');
                    const out = document.querySelector('.mk-readouts');
                    return img && out && img.src !== src && out.textContent !== text;
                }""", arg=[before_src, before_text], timeout=60_000)
            after_text = readout.text_content()
            assert slider.locator(".widget-readout").inner_text().strip() == "20"
            assert after_text != before_text
            deadline = time.monotonic() + 60  # let the last redraw finish before framing the screenshot
            while not _kernel_idle(jupyterlab) and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            page.wait_for_timeout(500)
            page.locator(".widget-output img").first.scroll_into_view_if_needed(timeout=30_000)
        finally:
            page.screenshot(path=str(artifacts_dir / "browser_02_preprocessing.png"), full_page=False)
            browser.close()
