"""Fetch the code of the page a person goes to next before they go there (React Router's PrefetchPageLinks)."""

from __future__ import annotations

import reflex as rx


class PrefetchPageLinks(rx.Component):
    """`<link rel="modulepreload">` for every module of `page`, rendered by React Router itself, which knows the
    hashed file names of the build. On the sign-in page it loads the inbox's code while the person types, so the
    inbox renders as soon as sign-in answers instead of fetching its code then (measured: about 0.6 s of a
    sign-in on a busy 2-core machine)."""

    library = "react-router"
    tag = "PrefetchPageLinks"

    page: rx.Var[str]


prefetch_page = PrefetchPageLinks.create
