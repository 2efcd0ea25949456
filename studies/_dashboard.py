"""optuna-dashboard on a study storage, served by a WSGI server this process controls.

The dashboard shows each trial's user attributes (``device_s``, ``wall_s``, ``test``,
``status``, ...) and each study's (``task``, ``space``, ``evaluation``), so the figures of the
contract are visible there without any plug-in.
"""

from __future__ import annotations

from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from studies._errors import StudyError
from studies._query import reading_storage

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

__all__ = ["serve_dashboard", "dashboard_url"]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


def dashboard_url(host: str, port: int) -> str:
    """The URL of the dashboard's study list for a server bound to (host, port)."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/dashboard/"


def serve_dashboard(
    storage: str | BaseStorage,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve optuna-dashboard for `storage` on (host, port) until interrupted.

    Args:
        host: the address to bind; 127.0.0.1 (this machine only) unless told otherwise.
        port: the port; 0 picks a free one (the URL passed to `ready` has the real port).
        ready: called with the dashboard URL once the socket is bound.
    """
    import optuna_dashboard

    app = optuna_dashboard.wsgi(reading_storage(storage))
    try:
        server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
    except OSError as exc:
        raise StudyError(
            f"cannot serve the dashboard on {host}:{port} ({exc.strerror}); pick another --port"
        ) from exc
    with server:
        if ready is not None:
            ready(dashboard_url(host, server.server_port))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
