"""The Ray side of a study: connecting to a cluster or starting a private local one.

`ray_session` connects to ``--ray-address`` / ``$RAY_ADDRESS`` when one is given. Otherwise it
starts a Ray of its own for the length of the command, and takes care of what a plain
``ray.init()`` gets wrong on a shared machine (checked against Ray 2.60.0):

- ``address="local"``: always a fresh instance, never a stale cluster recorded in Ray's temp dir;
- no dashboard, usage stats off, no metrics export (``enable_metrics_collection=False``: the
  dashboard agent opens no metrics-export port);
- listening on 127.0.0.1 only, with Ray in its "this machine only" mode (`_loopback_node`;
  ``_node_ip_address="127.0.0.1"`` alone is replaced by the machine's external address).
  On loopback: gcs_server; raylet (node manager, object manager); the gRPC server of the
  driver and of every worker; the dashboard agent (gRPC, HTTP on 52365); the runtime-env agent
  (HTTP); and the Prometheus endpoints of the minimal dashboard process (44227) and of the
  autoscaler monitor (44217), which Ray starts even without a dashboard and which answer
  without a token. No UDP sockets. Without that mode all of these listened on all interfaces
  or on the external address;
- token authentication left as Ray sets it (on). Ray's token file, ``~/.ray/auth_token``, is
  owner-only (0600), as are the files the Ray processes write (`_owner_only_files`): logs,
  port files and sockets in the session dir, which Ray makes mode 0777 (as it does
  ``/tmp/ray``). None of them holds the token;
- shut down through ``ray.shutdown()`` at the end (gcs_server and raylet can ignore SIGTERM).

Another command joins such a Ray through its loopback address (``ray_session("127.0.0.1:…")``)
in the same mode. A driver killed with SIGKILL takes its local Ray's main processes with it
(Ray ties them to the driver); two helper agents linger for about a minute and then exit on
their own.
"""

from __future__ import annotations

import ipaddress
import math
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssmtune.studies import StudyError

__all__ = [
    "RayInfo",
    "ray_session",
    "start_local_ray",
    "is_remote_address",
    "cluster_is_local",
    "worker_env",
]


@dataclass(frozen=True)
class RayInfo:
    """The Ray a command runs on.

    Attributes:
        address: the cluster's address ("local" for a private one).
        started: whether this command started it (and shuts it down).
        cpus, gpus: the cluster's resources.
        nodes: the number of alive nodes.
        start_s: seconds to start or connect.
    """

    address: str
    started: bool
    cpus: float
    gpus: float
    nodes: int
    start_s: float


def _is_local_host(host: str) -> bool:
    """Whether `host` is this machine: a loopback address, or one a socket here can bind."""
    if not host or host == "localhost":
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    for family, _, _, _, addr in infos:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.bind((addr[0], 0))
            return True
        except OSError:
            continue
    return False


def is_remote_address(address: str | None) -> bool:
    """Whether a Ray address points to another machine (``auto`` counts as possibly remote).

    Example:
        >>> is_remote_address("127.0.0.1:6379"), is_remote_address("10.1.2.3:6379")
        (False, True)
    """
    if not address or address == "local":
        return False
    if address == "auto":
        return True
    return not _is_local_host(_host(address))


def _host(address: str) -> str:
    """The host part of a Ray address (``[::1]:6379`` -> ``::1``)."""
    rest = address.split("://", 1)[-1]
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or "]" in rest else rest
    return host.strip("[]")


def _is_loopback_address(address: str) -> bool:
    """Whether a Ray address is on loopback (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = _host(address)
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cluster_is_local() -> bool:
    """Whether every alive node of the connected Ray cluster runs on this machine."""
    import ray

    return all(_is_local_host(n["NodeManagerAddress"]) for n in ray.nodes() if n.get("Alive"))


def worker_env(gpus_per_trial: float) -> dict[str, str]:
    """Environment variables of a worker process, set before JAX is imported.

    GPU workers: no preallocation of 75% of the GPU (JAX's default) and a memory cap matching
    the worker's share of the GPU, so workers sharing a GPU do not starve each other.
    """
    env = {"RAY_USAGE_STATS_ENABLED": "0"}
    if gpus_per_trial > 0:
        share = min(1.0, gpus_per_trial) * 0.9
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{share:.2f}"
    return env


#: How ssmtune talks to Ray: no dashboard, quiet, worker output not echoed to the driver.
_INIT_KWARGS: dict[str, Any] = dict(
    include_dashboard=False, logging_level="ERROR", log_to_driver=False, configure_logging=True
)


#: The token file Ray generates for token authentication and reads when neither
#: ``$RAY_AUTH_TOKEN`` nor ``$RAY_AUTH_TOKEN_PATH`` is set.
_TOKEN_FILE = Path("~/.ray/auth_token")

#: Ray's switch between cluster mode (the default on Linux) and "this machine only".
_CLUSTER_MODE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextmanager
def _loopback_node() -> Iterator[None]:
    """Ray's "this machine only" mode within the block: a node started in it takes 127.0.0.1
    as its address, and a loopback address joined in it stays loopback.

    Ray 2.60 binds its servers to loopback only when the node's address is loopback (the
    gRPC servers of gcs_server, raylet and the workers, both agents, the metrics endpoints),
    and in cluster mode ``ray.init`` replaces every loopback address it is given (the node's,
    the one it joins) by the machine's external one (Ray's
    ``services.resolve_ip_for_localhost``). Ray reads ``$RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``
    once, at import, into ``ray_constants.ENABLE_RAY_CLUSTER``, so both are set (Ray may be
    imported already; the processes started in the block inherit the variable), and both are
    restored afterwards: a later connection to a real cluster must advertise a reachable
    address.
    """
    from ray._private import ray_constants

    saved_env, saved_flag = os.environ.get(_CLUSTER_MODE_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_CLUSTER_MODE_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        if saved_env is None:
            os.environ.pop(_CLUSTER_MODE_ENV, None)
        else:
            os.environ[_CLUSTER_MODE_ENV] = saved_env


@contextmanager
def _owner_only_files() -> Iterator[None]:
    """Create files owner-only (umask 077) within the block; tighten Ray's token file after it.

    Ray writes a new token file with the process's umask (0644 under the usual 022): readable
    by every user of the machine. The processes Ray starts in the block keep the umask, so
    their logs, sockets, spilled objects and whatever the trials write are owner-only too. The
    umask is process-wide: files other threads create meanwhile are owner-only as well. A
    token file left readable by an earlier Ray is made 0600; a file named by
    ``$RAY_AUTH_TOKEN_PATH`` is the user's and is left as it is.
    """
    saved = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(saved)
        token = _TOKEN_FILE.expanduser()
        if token.is_file() and token.stat().st_mode & 0o077:
            token.chmod(0o600)


@contextmanager
def _private_ray() -> Iterator[None]:
    """A Ray started or joined in the block listens on loopback only and writes owner-only
    files (`_loopback_node`, `_owner_only_files`)."""
    with _loopback_node(), _owner_only_files():
        yield


def start_local_ray(num_cpus: float | None = None) -> None:
    """Start a private local Ray in this process (see the module docstring): always a fresh
    instance (``address="local"``), listening on loopback only, files owner-only, no dashboard,
    no metrics export, usage stats off; `num_cpus` defaults to the machine's. The caller shuts
    it down with ``ray.shutdown()``.

    Raises:
        StudyError: Ray started on a non-loopback address (a Ray upgrade changed how the node
            address is chosen); it is shut down again.
    """
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    cpus = num_cpus if num_cpus is not None else float(os.cpu_count() or 1)
    with _private_ray():
        ray.init(
            address="local",
            num_cpus=max(1, math.ceil(cpus)),
            _system_config={"enable_metrics_collection": False},
            **_INIT_KWARGS,
        )
    host = ray.util.get_node_ip_address()
    if not ipaddress.ip_address(host).is_loopback:
        ray.shutdown()
        raise StudyError(
            f"the local Ray started on {host}, not on loopback (Ray {ray.__version__}); "
            "pin the Ray version search/_ray.py was checked against, or pass `ray_address`"
        )


@contextmanager
def ray_session(address: str | None = None, *, num_cpus: float | None = None) -> Iterator[RayInfo]:
    """Connect to Ray (or start a private local Ray) for the length of the block.

    Args:
        address: a cluster address; None: ``$RAY_ADDRESS`` if set, else a private local Ray.
            A Ray already initialised in this process (tests) is used as it is. A loopback
            address (a private local Ray's) is connected to on loopback.
        num_cpus: CPUs of a private local Ray (default: the machine's).

    Raises:
        StudyError: the cluster cannot be reached.
    """
    import ray

    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    t0 = time.perf_counter()
    started = False
    if ray.is_initialized():
        owned = False
    else:
        owned = True
        try:
            if address:
                # A private local Ray (another ssmtune command's): Ray would replace the loopback
                # host by the machine's external address, where it does not listen, and this
                # driver's files in its session dir would be readable by all.
                with _private_ray() if _is_loopback_address(address) else nullcontext():
                    ray.init(address=address, **_INIT_KWARGS)
            else:
                started = True
                start_local_ray(num_cpus)
        except Exception as exc:
            raise StudyError(
                f"cannot connect to the Ray cluster at {address or 'a new local Ray'}: "
                f"{' '.join(str(exc).split())[:300]}; check `ray_address` / RAY_ADDRESS, "
                "or leave both unset to run on a local Ray"
            ) from None
    try:
        res = ray.cluster_resources()
        info = RayInfo(
            address=address or "local",
            started=started,
            cpus=float(res.get("CPU", 0.0)),
            gpus=float(res.get("GPU", 0.0)),
            nodes=sum(1 for n in ray.nodes() if n.get("Alive")),
            start_s=time.perf_counter() - t0,
        )
        yield info
    finally:
        if owned:
            ray.shutdown()
