"""Ray's health during a run: whether the Ray a runner hands its trials to is still there.

`RayWatch.lost` answers, every heartbeat of the runner's loop (`search._runner`):

- a local Ray this command started (`search._ray.start_local_ray`) is gone once its raylet or
  GCS server process has exited: its processes tell, at no cost (`local_ray_processes`);
- a cluster the command connected to is lost once its control store has not listed this
  driver's node as alive for `RAY_LOSS_S` seconds (`own_node_alive`; the question runs in a
  thread, so a cluster that does not answer cannot block the loop).

The watch only says why Ray is gone; the runner then re-queues its trials in flight and ends
the run with a message that says to resume.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

__all__ = ["RAY_LOSS_S", "RayWatch", "local_ray_processes", "own_node_alive"]

#: Seconds a Ray cluster the run connected to may be unreachable before the run ends.
RAY_LOSS_S = 60.0

_log = logging.getLogger(__name__)


class RayWatch:
    """Watches the Ray of one run (see the module docstring).

    Args:
        study_name: the study run, named in the warning logged when a cluster stops answering.
    """

    def __init__(self, study_name: str) -> None:
        self.study_name = study_name
        self._lost_since: float | None = None

    def lost(self) -> str | None:
        """Why the run's Ray is gone, in words; None while it is there (a cluster that has
        not answered for less than `RAY_LOSS_S` seconds counts as there)."""
        processes = local_ray_processes()
        if processes:  # a Ray this command started: its processes tell, at no cost
            return next(
                (f"the local Ray's {name} exited ({_exit(p.poll())})" for name, p in processes
                 if p.poll() is not None),
                None,
            )  # fmt: skip
        # a cluster the run connected to: ask it, and give it RAY_LOSS_S
        now = time.monotonic()
        if own_node_alive():
            self._lost_since = None
            return None
        if self._lost_since is None:
            self._lost_since = now
            _log.warning("study %s: the Ray cluster does not answer", self.study_name)
        if now - self._lost_since < RAY_LOSS_S:
            return None
        return f"the Ray cluster has not answered for {RAY_LOSS_S:g} s"


def local_ray_processes() -> list[tuple[str, Any]]:
    """(name, Popen) of the raylet and GCS server of a local Ray this process started; empty
    for a driver that only connected to a cluster. Reads Ray's record of the processes it
    started (``ray._private.worker._global_node.all_processes``, Ray 2.60)."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    processes = getattr(node, "all_processes", None) or {}
    return [(n, info.process) for n in ("gcs_server", "raylet") for info in processes.get(n, [])]


def _exit(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"code {code}"


def own_node_alive(timeout_s: float = 10.0) -> bool:
    """Whether the cluster's control store answers and lists this driver's node as alive, in
    at most `timeout_s` seconds (the query runs in a thread, so a cluster that does not answer
    cannot block the loop)."""
    import ray

    answer: list[bool] = []

    def ask() -> None:
        try:
            me = ray.get_runtime_context().get_node_id()
            answer.append(any(n["NodeID"] == me and n.get("Alive") for n in ray.nodes()))
        except Exception:  # noqa: BLE001 - any failure to answer counts as not alive
            answer.append(False)

    thread = threading.Thread(target=ask, name="ssmtune-ray-check", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(answer and answer[0])
