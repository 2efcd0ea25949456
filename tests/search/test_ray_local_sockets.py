"""The private local Ray (`search._ray.start_local_ray`) exposes nothing beyond this machine.

The Ray is started exactly as ssmtune starts it, in a child Python process (so the session's
own Ray, `ray_local`, is not involved), with an actor, a task and an actor with
``runtime_env={"env_vars": ...}`` running, so that core workers and both agents exist. While it
runs, every listening TCP socket and every bound, unconnected UDP socket of every process of
that Ray (the child's descendants, and any process naming its session dir) is listed; then the
child is told to stop and shuts its Ray down through ``ray.shutdown()``.

No socket is exempt: on Ray 2.60.0 every one of them can be bound to loopback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

# Ray ships psutil in ray/thirdparty_files and puts it on sys.path when it is imported.
# isort: off
import ray  # noqa: F401
import psutil

# isort: on

ROOT = Path(__file__).parents[2]

#: The child: start the local Ray as ssmtune does, use it, report, wait for "stop", shut down.
_CHILD = """
import json, os, subprocess, sys
from pathlib import Path
import ray
from ssmtune.search._ray import start_local_ray

start_local_ray(num_cpus=1)
address = ray.get_runtime_context().gcs_address

@ray.remote
class Probe:
    def env(self, name):
        return os.environ.get(name)

@ray.remote
def pid():
    return os.getpid()

plain = Probe.remote()
with_env = Probe.options(runtime_env={"env_vars": {"SSMTUNE_PROBE": "on"}}).remote()
refs = [pid.remote(), plain.env.remote("SSMTUNE_PROBE"), with_env.env.remote("SSMTUNE_PROBE")]
done, _ = ray.wait(refs, num_returns=len(refs), timeout=240)
task_pid, plain_env, probe_env = ray.get(done) if len(done) == len(refs) else (None,) * 3
# Another command joins through --ray-address (ssmtune's ray_session), as the CLI tests do.
client = (
    "import ray; from ssmtune.search._ray import ray_session\\n"
    f"with ray_session({address!r}):\\n"
    "    print(ray.util.get_node_ip_address(), ray.get(ray.remote(lambda: 42).remote()))"
)
try:
    run = subprocess.run([sys.executable, "-c", client], capture_output=True, text=True, timeout=120)
    joined, join_log = run.stdout.split(), run.stderr[-2000:]
except subprocess.TimeoutExpired as exc:
    joined, join_log = [], f"timed out: {exc.stderr!r}"[-2000:]
report = dict(
    address=address,
    joined=joined,
    join_log=join_log,
    task_ran=isinstance(task_pid, int) and task_pid != os.getpid(),
    plain_env=plain_env,
    probe_env=probe_env,
    token_auth=os.environ.get("RAY_AUTH_MODE", "").lower() == "token",
    token_file=str(Path.home() / ".ray" / "auth_token"),
)
print("READY " + json.dumps(report), flush=True)
sys.stdin.readline()
ray.kill(plain)
ray.kill(with_env)
ray.shutdown()
print("DOWN", flush=True)
"""


class Listening(NamedTuple):
    """One listening socket of a Ray process."""

    process: str
    pid: int
    proto: str
    ip: str
    port: int


class Snapshot(NamedTuple):
    """What the test saw of the child's Ray while it ran, and how the child ended."""

    report: dict
    listening: list[Listening]
    session_dir: Path
    open_session_files: list[str]
    token_mode: int | None
    returncode: int | None
    output: str


def _is_loopback(ip: str) -> bool:
    """127.0.0.0/8 or ::1, also written as an IPv4-mapped IPv6 address (::ffff:127.0.0.1)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:  # exited meanwhile, or another user's
        return []


def _ray_processes(child: psutil.Process) -> tuple[list[psutil.Process], Path]:
    """The child, its descendants, and any other process whose command line names the
    session dir (read from the ``--session-dir`` Ray gives gcs_server)."""
    procs = {p.pid: p for p in [child, *child.children(recursive=True)]}
    session = next(
        (
            a.split("=", 1)[1]
            for p in procs.values()
            for a in _cmdline(p)
            if a.startswith("--session-dir=")
        ),
        None,
    )
    assert session, f"no gcs_server among the child's processes: {list(procs.values())}"
    for p in psutil.process_iter():
        if any(session in arg for arg in _cmdline(p)):
            procs.setdefault(p.pid, p)
    return list(procs.values()), Path(session)


def _listening(proc: psutil.Process) -> list[Listening]:
    """TCP sockets in LISTEN and UDP sockets bound without a peer, of one process."""
    out = []
    try:
        name = proc.name()
        for c in proc.net_connections(kind="inet"):
            tcp = c.type == socket.SOCK_STREAM
            if (tcp and c.status != psutil.CONN_LISTEN) or (not tcp and (c.raddr or not c.laddr)):
                continue
            proto = ("tcp" if tcp else "udp") + ("6" if c.family == socket.AF_INET6 else "")
            out.append(Listening(name, proc.pid, proto, c.laddr.ip, c.laddr.port))
    except psutil.Error:  # exited meanwhile
        pass
    return out


def _read_until(proc: subprocess.Popen, prefix: str, timeout: float, lines: list[str]) -> str:
    """The first line of the child's output that starts with `prefix` (all lines kept)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        line = proc.stdout.readline() if ready else ""
        if not line:
            break
        lines.append(line)
        if line.startswith(prefix):
            return line
    raise AssertionError(f"the child never printed {prefix!r}:\n{''.join(lines)[-4000:]}")


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    """Start the child, list its Ray's sockets and files while it runs, then stop it."""
    # Ray's default token file, as ssmtune runs by default (no token or token file given).
    dropped = ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        report = json.loads(_read_until(proc, "READY ", 300, lines).split(" ", 1)[1])
        # Three looks a second apart: a socket opened late by an agent is still seen.
        seen: set[Listening] = set()
        for _ in range(3):
            procs, session = _ray_processes(psutil.Process(proc.pid))
            for p in procs:
                seen.update(_listening(p))
            time.sleep(1)
        open_files = sorted(
            str(f.relative_to(session))
            for f in session.rglob("*")
            if f.is_file() and not f.is_symlink() and f.lstat().st_mode & 0o077
        )
        token = Path(report["token_file"])
        token_mode = token.stat().st_mode & 0o777 if report["token_auth"] else None
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        _read_until(proc, "DOWN", 120, lines)
        returncode = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    return Snapshot(
        report, sorted(seen), session, open_files, token_mode, returncode, "".join(lines)
    )


def test_every_listening_socket_is_on_loopback(snapshot: Snapshot) -> None:
    table = "\n".join(
        f"  {s.process} ({s.pid}) {s.proto} {s.ip}:{s.port}" for s in snapshot.listening
    )
    exposed = [s for s in snapshot.listening if not _is_loopback(s.ip)]
    assert not exposed, f"Ray sockets beyond loopback:\n{table}"
    # Not vacuous: the processes that always listen were found and looked at.
    assert {"gcs_server", "raylet"} <= {s.process for s in snapshot.listening}, table


def test_token_file_is_owner_only(snapshot: Snapshot) -> None:
    if not snapshot.report["token_auth"]:
        pytest.skip("token authentication is off in this environment (RAY_AUTH_MODE)")
    assert snapshot.token_mode == 0o600, f"{snapshot.report['token_file']}: {snapshot.token_mode:o}"


def test_session_files_are_owner_only(snapshot: Snapshot) -> None:
    assert snapshot.open_session_files == [], snapshot.session_dir


def test_workers_run_and_shut_down_on_loopback(snapshot: Snapshot) -> None:
    """A task ran in a worker, runtime_env env_vars (the runtime-env agent) reached an actor,
    a second driver joined through the loopback address, and the child ended through
    ray.shutdown() with exit code 0."""
    assert snapshot.report["task_ran"], snapshot.output
    assert (snapshot.report["plain_env"], snapshot.report["probe_env"]) == (None, "on")
    assert _is_loopback(snapshot.report["address"].rsplit(":", 1)[0].strip("[]"))
    # a second driver joined through the loopback address, itself on loopback, and ran a task
    assert len(snapshot.report["joined"]) == 2, snapshot.report["join_log"]
    node_ip, answer = snapshot.report["joined"]
    assert _is_loopback(node_ip) and answer == "42"
    assert snapshot.returncode == 0, snapshot.output[-4000:]
