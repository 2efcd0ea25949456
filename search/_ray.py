"""The Ray side of a study: connecting to a cluster or starting a private local one.

`ray_session` connects to ``--ray-address`` / ``$RAY_ADDRESS`` when one is given. Otherwise it
starts a Ray of its own for the length of the command, and takes care of what a plain
``ray.init()`` gets wrong on a shared machine (FACTS.md, Ray 2.60):

- ``address="local"``: always a fresh instance, never a stale cluster recorded in Ray's temp dir;
- bound to 127.0.0.1 (not the machine's external address), no dashboard, usage stats off;
- token authentication left as Ray sets it (on);
- shut down through ``ray.shutdown()`` at the end (gcs_server and raylet can ignore SIGTERM).

A driver killed with SIGKILL takes its local Ray's main processes with it (Ray ties them to the
driver); two helper agents linger for about a minute and then exit on their own.
"""

from __future__ import annotations

import ipaddress
import math
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from studies._errors import StudyError

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
    rest = address.split("://", 1)[-1]
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or "]" in rest else rest
    return not _is_local_host(host.strip("[]"))


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
_INIT_KWARGS = dict(
    include_dashboard=False, logging_level="ERROR", log_to_driver=False, configure_logging=True
)


def start_local_ray(num_cpus: float | None = None) -> None:
    """Start a private local Ray in this process (see the module docstring): always a fresh
    instance (``address="local"``), bound to 127.0.0.1, no dashboard, usage stats off;
    `num_cpus` defaults to the machine's. The caller shuts it down with ``ray.shutdown()``."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    cpus = num_cpus if num_cpus is not None else float(os.cpu_count() or 1)
    ray.init(
        address="local",
        _node_ip_address="127.0.0.1",
        num_cpus=max(1, math.ceil(cpus)),
        **_INIT_KWARGS,
    )


@contextmanager
def ray_session(address: str | None = None, *, num_cpus: float | None = None) -> Iterator[RayInfo]:
    """Connect to Ray (or start a private local Ray) for the length of the block.

    Args:
        address: a cluster address; None: ``$RAY_ADDRESS`` if set, else a private local Ray.
            A Ray already initialised in this process (tests) is used as it is.
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
                ray.init(address=address, **_INIT_KWARGS)
            else:
                started = True
                start_local_ray(num_cpus)
        except Exception as exc:
            raise StudyError(
                f"cannot connect to the Ray cluster at {address or 'a new local Ray'}: "
                f"{' '.join(str(exc).split())[:300]}; check --ray-address / RAY_ADDRESS, "
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
