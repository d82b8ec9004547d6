"""govsocial_app/page_paths.py: a page's address without its trailing slash answers 200 with the page, as Reflex's
static files serve it in prod (Starlette's StaticFiles with html=True, which would otherwise redirect)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from govsocial_app.page_paths import page_paths


@pytest.fixture
def client(tmp_path):
    for page in ("inbox", "more/teams", "login"):
        (tmp_path / page).mkdir(parents=True)
        (tmp_path / page / "index.html").write_text(f"<html>{page}</html>")
    (tmp_path / "app.css").write_text("body{}")

    async def echo(request: Request):
        return PlainTextResponse(f"{request.method} {request.url.path}")

    inner = Starlette(routes=[Route("/api/echo", echo, methods=["GET", "POST"]),
                              Route("/inbox", echo, methods=["POST"]),
                              Mount("/", StaticFiles(directory=tmp_path, html=True))])
    app = page_paths(["/", "/inbox", "/more/teams", "/login/"])(inner)
    return TestClient(app, follow_redirects=False)


def test_a_page_path_without_its_slash_is_the_page_not_a_redirect(client):
    for path, page in (("/inbox", "inbox"), ("/more/teams", "more/teams"), ("/login", "login")):
        got = client.get(path)
        assert got.status_code == 200, path
        assert got.text == f"<html>{page}</html>"
        assert client.head(path).status_code == 200
    assert client.get("/inbox?status=open&message=12").text == "<html>inbox</html>"  # the query reaches the page


def test_everything_else_is_untouched(client):
    assert client.get("/inbox/").status_code == 200
    assert client.get("/app.css").text == "body{}"
    assert client.get("/nope").status_code == 404
    assert client.get("/api/echo").text == "GET /api/echo"
    # Only GET and HEAD: another method reaches whatever answers the address as asked.
    assert client.post("/inbox").text == "POST /inbox"
    # A directory that is not one of the app's pages keeps Starlette's behaviour.
    assert client.get("/more").status_code in (307, 404)


def test_dynamic_routes_are_refused():
    with pytest.raises(ValueError):
        page_paths(["/inbox", "/post/[id]"])
