"""A real local HTTP server for the feed tests (and the CAP bench): serves an Atom index and CAP documents that a
test changes as it goes, honours If-None-Match / If-Modified-Since, and records every request it receives."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    content_type: str = "application/xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: str = ""


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                with server._lock:
                    server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                    page = server.pages.get(self.path)
                if page is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
                if page.status == 200 and (self.headers.get("If-None-Match") == etag or
                                           (page.last_modified and self.headers.get("If-Modified-Since") == page.last_modified)):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                if page.status == 200:
                    self.send_header("ETag", etag)
                    if page.last_modified:
                        self.send_header("Last-Modified", page.last_modified)
                for key, value in page.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(page.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: bytes, **kw) -> None:
        with self._lock:
            self.pages[path] = Page(body, **kw)

    def hits(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [headers for p, headers in self.requests if p == path]

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def atom_index(base: str, entries: list[tuple[str, str, str]], title: str = "Test CAP feed") -> bytes:
    """An NWS-style Atom index: (id, updated, cap path) per entry."""
    items = "".join(
        f"<entry><id>{base}{path}</id><title>{ident}</title><updated>{updated}</updated>"
        f'<link rel="alternate" type="application/cap+xml" href="{base}{path}"/></entry>'
        for ident, updated, path in entries
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>{base}/index.atom</id>'
            f"<title>{title}</title><updated>2026-11-24T17:05:00Z</updated>{items}</feed>").encode()
