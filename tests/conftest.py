"""Shared fixtures: a real HTTP server on 127.0.0.1 serving files in the course's format (for
the download tests of helpers.files and helpers.steinmetz, issue 19)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class CourseServer:
    """An HTTP server in a thread. ``files`` maps a name to its bytes; ``modes`` to how it is
    served: ``"normal"``, ``"truncated"`` (the connection closes after half of the announced
    bytes), ``"stalled"`` (a few bytes, then silence until the server stops), ``"trickle"``
    (one byte every 0.1 s) or ``"html"`` (an error page with status 200). Unknown names: 404.
    ``requests`` lists the paths asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                name = self.path.strip("/").split("/")[-1]
                server.requests.append(self.path)
                if name not in server.files:
                    self.send_error(404, "Not Found")
                    return
                body, mode = server.files[name], server.modes.get(name, "normal")
                if mode == "html":
                    body = b"<!DOCTYPE html><html><body>Too many requests</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self._body(body, mode)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _body(self, body: bytes, mode: str) -> None:
                if mode == "truncated":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                elif mode == "stalled":
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    server.stop.wait(30)
                elif mode == "trickle":
                    for byte in body:
                        if server.stop.is_set():
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.1)
                else:
                    self.wfile.write(body)

        return Handler


@pytest.fixture
def course_server() -> Iterator[CourseServer]:
    """A local HTTP server (see :class:`CourseServer`); stopped after the test."""
    server = CourseServer()
    yield server
    server.close()
