"""optuna-dashboard on a study storage, served by a WSGI server this process controls.

The dashboard shows each trial's user attributes (``device_s``, ``wall_s``, ``test``,
``status``, ...) and each study's (``task``, ``space``, ``evaluation``), so the figures of the
contract are visible there without any plug-in.

Its HTTP API can change studies and has no authentication. A web page the user visits can
reach a server on 127.0.0.1 by DNS rebinding: its own name, looked up again, now resolves to
127.0.0.1, so the browser sends it the page's requests, each with ``Host: <attacker's name>``.
The server therefore answers 403 to a request whose ``Host`` header is not a name it was
started with (localhost, 127.0.0.1, ::1, the bound address, and names given explicitly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ssmtune.studies._errors import StudyError
from ssmtune.studies._query import reading_storage

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from optuna.storages import BaseStorage

__all__ = ["serve_dashboard", "dashboard_url"]

#: Host names that always reach this machine only.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


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


def _host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port and IPv6 brackets, in lower case.

    Example:
        >>> _host_name("[::1]:8080"), _host_name("LocalHost:80"), _host_name("evil.example")
        ('::1', 'localhost', 'evil.example')
    """
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        return name if rest == "" or rest.startswith(":") else header
    return header.rpartition(":")[0] if ":" in header else header


def _only_hosts(app: WSGIApplication, names: frozenset[str]) -> WSGIApplication:
    """`app`, answering 403 to a request whose ``Host`` header is missing or not in `names`."""
    refusal = (
        "403 Forbidden: this dashboard answers only requests addressed to "
        f"{', '.join(sorted(names))} (a guard against DNS rebinding); to reach it by another "
        "name, allow that name (`allow_hosts`; `ssmtune dashboard --allow-host NAME`)\n"
    ).encode()

    def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if _host_name(environ.get("HTTP_HOST", "")) in names:
            return app(environ, start_response)
        start_response(
            "403 Forbidden",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(refusal))),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [refusal]

    return guarded


def _allowed_names(host: str, allow_hosts: Iterable[str]) -> Iterator[str]:
    yield from LOOPBACK_NAMES
    for name in (host, *allow_hosts):
        name = _host_name(name) if name.startswith("[") else name.strip().lower()
        if name:
            yield name


def serve_dashboard(
    storage: str | BaseStorage,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    allow_hosts: Iterable[str] = (),
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve optuna-dashboard for `storage` on (host, port) until interrupted.

    The dashboard has no authentication and can change studies. It answers 403 to requests
    addressed (``Host`` header) to any name but localhost, 127.0.0.1, ::1, `host` and
    `allow_hosts`, so that a web page cannot reach it by DNS rebinding.

    Args:
        host: the address to bind; 127.0.0.1 (this machine only) unless told otherwise.
        port: the port, 0 to 65535; 0 picks a free one (the URL passed to `ready` has the real
            port).
        allow_hosts: further names the dashboard is reached by (say ``my-box.lab`` when
            `host` is ``0.0.0.0``).
        ready: called with the dashboard URL once the socket is bound.

    Raises:
        StudyError: a port outside 0-65535 (before the storage is opened), a storage that
            cannot be read, an address or port that cannot be bound.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise StudyError(f"`port` must be 0 to 65535 (0 picks a free one), got {port!r}")
    import optuna_dashboard

    app = _only_hosts(
        optuna_dashboard.wsgi(reading_storage(storage)),
        frozenset(_allowed_names(host, allow_hosts)),
    )
    try:
        server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
    except OSError as exc:
        raise StudyError(
            f"cannot serve the dashboard on {host}:{port} ({exc.strerror}); pick another `port`"
        ) from exc
    with server:
        if ready is not None:
            ready(dashboard_url(host, server.server_port))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
