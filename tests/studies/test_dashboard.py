"""`ssmtune dashboard`: optuna-dashboard on our storage, its HTTP API and its page in Chromium."""

from __future__ import annotations

import contextlib
import html
import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssmtune import studies
from ssmtune.studies import dashboard_url
from ssmtune.studies._settings import name_objective
from tests.studies.conftest import LINOSS_TRIALS

SSMTUNE = str(Path(sys.executable).parent / "ssmtune")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def serving(storage: str, *options: str) -> Iterator[str]:
    """`ssmtune dashboard` on a free port, as a subprocess; yields its base URL, ends it by PID."""
    proc = subprocess.Popen(
        [SSMTUNE, "dashboard", "--storage", storage, "--port", "0", *options],
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
        assert line.startswith(f"optuna-dashboard on {storage}: http://127.0.0.1:")
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


@pytest.fixture(scope="module")
def dashboard(study_db):
    with serving(study_db) as url:
        yield url


@pytest.fixture(scope="module")
def dashboard_lab(study_db):
    """The dashboard started to be reached also as evil.example (--allow-host)."""
    with serving(study_db, "--allow-host", "evil.example") as url:
        yield url


@pytest.fixture(scope="module")
def noted_db(study_db, tmp_path_factory):
    """A copy of the database where bm-linoss and ppg-lru have named objectives, and
    bm-linoss a note with its settings, its cost and the verdict of `compare` against
    bm-dlinoss, all written as ssmtune writes them."""
    import optuna

    path = tmp_path_factory.mktemp("noted") / "noted.db"
    shutil.copy(study_db.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    for name in ("bm-linoss", "ppg-lru"):
        name_objective(optuna.load_study(study_name=name, storage=url))
    linoss = optuna.load_study(study_name="bm-linoss", storage=url)
    assert studies.update_note(linoss, settings=True, cost=True)
    c = studies.compare(url, "BasicMotions", "bm-linoss", "bm-dlinoss", resamples=200, note=True)
    return url, c["verdict"]


@pytest.fixture(scope="module")
def noted_dashboard(noted_db):
    with serving(noted_db[0]) as url:
        yield url


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


def study_id(base: str, name: str) -> int:
    summaries = get_json(f"{base}/api/studies")["study_summaries"]
    return next(s["study_id"] for s in summaries if s["study_name"] == name)


def rendered_dom(page: str, profile: Path) -> str:
    """The DOM of `page` once headless Chromium has run its JavaScript (``--dump-dom``)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
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
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout.lower()
    return done.stdout


def visible_text(dom: str) -> str:
    """The text of a DOM's body as a reader sees it: no tags, styles or scripts, entities
    decoded, runs of white space as one space."""
    body = dom[dom.lower().find("<body") :]
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_page_renders_in_headless_chromium(dashboard, tmp_path):
    """Optuna-dashboard draws the study page with JavaScript: the name is in the DOM only if
    the page rendered."""
    page = f"{dashboard}/dashboard/studies/{study_id(dashboard, 'bm-linoss')}"
    dom = rendered_dom(page, tmp_path / "chromium-profile")
    assert "bm-linoss" in dom, dom[-2000:]


def test_the_page_shows_the_metric_name_and_the_note(noted_dashboard, noted_db, tmp_path):
    """The study page names the objective (val_accuracy, val_mse), not "Objective 0"; the
    study's Note page shows the settings, the cost so far and the verdict ssmtune wrote."""
    profile = tmp_path / "chromium-profile"
    for name, metric in (("bm-linoss", "val_accuracy"), ("ppg-lru", "val_mse")):
        page = f"{noted_dashboard}/dashboard/studies/{study_id(noted_dashboard, name)}"
        text = visible_text(rendered_dom(page, profile))
        assert name in text, text[-2000:]
        assert metric in text and "Objective 0" not in text, text[-2000:]

    linoss = study_id(noted_dashboard, "bm-linoss")
    note = visible_text(rendered_dom(f"{noted_dashboard}/dashboard/studies/{linoss}/note", profile))
    hours = sum(t[-1] for t in LINOSS_TRIALS) / 3600
    for shown in (
        "Settings task: BasicMotions model: linoss space: linoss-full (8 points) sampler: grid",
        "objective: maximize val_accuracy",
        f"Cost so far spent: {hours:.3g} device-hours",
        "trials: 7 complete, 1 pruned, 1 failed, 0 running or waiting",
        "Verdict ssmtune compare with bm-dlinoss,",
        "A = bm-linoss (this study), B = bm-dlinoss.",
        " ".join(noted_db[1].split()),
    ):
        assert shown in note, (shown, note[-3000:])


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
    assert done.stderr.rstrip().endswith("pick another --port")


def test_missing_database_is_a_clear_error(tmp_path, cli):
    code, _, err = cli("dashboard", "--storage", f"sqlite:///{tmp_path}/none.db", "--port", "0")
    assert code == 2 and "no study database at" in err
    assert "pass --storage with an existing database" in " ".join(err.split())


def test_dashboard_url():
    assert dashboard_url("127.0.0.1", 8080) == "http://127.0.0.1:8080/dashboard/"
    assert dashboard_url("0.0.0.0", 80) == "http://127.0.0.1:80/dashboard/"


def request(base: str, host: str | None, method: str = "GET") -> tuple[int, str]:
    """(status, body) of `method` /api/studies sent with the ``Host`` header `host`
    (None: no Host header, as HTTP/1.0 allows)."""
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if host is None:
            conn.putrequest(method, "/api/studies", skip_host=True)
            conn.endheaders()
        else:
            conn.request(method, "/api/studies", headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_only_local_host_names_are_answered(dashboard):
    """A page that reaches the dashboard by DNS rebinding sends its own name as Host: 403."""
    port = dashboard.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
        status, body = request(dashboard, host)
        assert status == 200 and "study_summaries" in body, (host, status, body)
    for host in (
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1.evil.example:{port}",
        f"localhost.evil.example:{port}",
        "[::1]evil.example",
        "",
        None,
    ):
        status, body = request(dashboard, host)
        assert status == 403, (host, status, body)
        assert "DNS rebinding" in body and "study_summaries" not in body
        assert "`allow_hosts`; `ssmtune dashboard --allow-host NAME`" in body
    assert request(dashboard, f"evil.example:{port}", "POST")[0] == 403


def test_allow_host_admits_the_names_given(dashboard_lab):
    port = dashboard_lab.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "EVIL.example", f"localhost:{port}"):
        assert request(dashboard_lab, host)[0] == 200, host
    assert request(dashboard_lab, f"other.example:{port}")[0] == 403


def test_printed_storage_hides_the_password(cli, monkeypatch):
    served = {}

    def serve(storage, *, host, port, ready, **options):
        served["storage"] = storage
        ready(dashboard_url(host, 8080))

    monkeypatch.setattr(studies, "serve_dashboard", serve)
    url = "postgresql+psycopg://ana:pg-s3cret-word@db.lab:5432/tune"
    code, out, err = cli("dashboard", "--storage", url)
    assert code == 0, err
    assert "pg-s3cret-word" not in out + err
    assert out.startswith("optuna-dashboard on postgresql+psycopg://ana:***@db.lab:5432/tune: ")
    assert served["storage"] == url  # the real URL is what is opened


def test_storage_errors_hide_the_password(cli):
    url = "postgresql://ana:pg-s3cret-word@127.0.0.1:1/tune"  # port 1: refused at once
    code, out, err = cli("dashboard", "--storage", url, "--port", "0")
    assert code == 2 and "cannot open storage" in err
    assert "pg-s3cret-word" not in out + err


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_port_out_of_range_is_one_line(cli, tmp_path, port):
    """Checked before the storage is opened (the database here does not exist)."""
    code, out, err = cli("dashboard", "--storage", f"sqlite:///{tmp_path}/none.db", "--port", port)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: --port must be 0 to 65535 (0 picks a free one), got {port}"
    ]


def test_help_says_how_to_expose_it(cli):
    code, out, _ = cli("dashboard", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "no authentication" in text and "SSH tunnel" in text
    assert "--host 0.0.0.0 --allow-host NAME" in text
