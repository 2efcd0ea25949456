"""`ssmtune dashboard`: optuna-dashboard on our storage, its HTTP API and its page in Chromium."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from studies import dashboard_url

SSMTUNE = str(Path(sys.executable).parent / "ssmtune")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def dashboard(study_db):
    """`ssmtune dashboard` on a free port, as a subprocess; yields its base URL, ends it by PID."""
    proc = subprocess.Popen(
        [SSMTUNE, "dashboard", "--storage", study_db, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            proc.kill()
            pytest.fail(f"no URL printed; stderr: {proc.stderr.read()}")
        assert line.startswith(f"optuna-dashboard on {study_db}: http://127.0.0.1:")
        url = line.rsplit(": ", 1)[1].strip()
        assert url.endswith("/dashboard/")
        yield url.removesuffix("/dashboard/")
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def test_api_lists_our_studies_with_our_attributes(dashboard):
    studies = get_json(f"{dashboard}/api/studies")["study_summaries"]
    by_name = {s["study_name"]: s for s in studies}
    assert {"bm-linoss", "ppg-lru", "hb-empty"} <= set(by_name)
    study_id = by_name["bm-linoss"]["study_id"]
    detail = get_json(f"{dashboard}/api/studies/{study_id}")
    assert detail["name"] == "bm-linoss"
    assert any(a["key"] == "task" and "BasicMotions" in a["value"] for a in detail["user_attrs"])
    # the trial attributes of the contract are shown: cost, test metric, status
    keys = {a["key"] for t in detail["trials"] for a in t["user_attrs"]}
    assert {"device_s", "wall_s", "test", "status"} <= keys


def test_the_page_renders_in_headless_chromium(dashboard, tmp_path):
    """Optuna-dashboard draws the study page with JavaScript: the name is in the DOM only if
    the page rendered."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    studies = get_json(f"{dashboard}/api/studies")["study_summaries"]
    study_id = next(s["study_id"] for s in studies if s["study_name"] == "bm-linoss")
    page = f"{dashboard}/dashboard/studies/{study_id}"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "<html" in dom.lower()
    assert "bm-linoss" in dom, dom[-2000:]


def test_busy_port_is_a_clear_error(dashboard, study_db):
    port = dashboard.rsplit(":", 1)[1]
    done = subprocess.run(
        [SSMTUNE, "dashboard", "--storage", study_db, "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"cannot serve the dashboard on 127.0.0.1:{port}" in done.stderr


def test_missing_database_is_a_clear_error(tmp_path, cli):
    code, _, err = cli("dashboard", "--storage", f"sqlite:///{tmp_path}/none.db", "--port", "0")
    assert code == 2 and "no study database at" in err


def test_dashboard_url():
    assert dashboard_url("127.0.0.1", 8080) == "http://127.0.0.1:8080/dashboard/"
    assert dashboard_url("0.0.0.0", 80) == "http://127.0.0.1:80/dashboard/"
