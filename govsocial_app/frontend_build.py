"""A Reflex plugin (rxconfig.py `plugins`) that trims what a phone downloads before the first paint (issue 20, item 3).

1. The app root (`app/root.jsx`): with `frontend_lazy_bundled_libraries` Reflex registers a loader that imports the
   whole `@radix-ui/themes` namespace for dynamic components (`rx.dynamic`, components built from a string of JS on
   the client). Its mere presence keeps every Radix Themes component in the build, tree-shaking or not. GovSocial
   has no dynamic component, so the loader line goes (only while none exists: `_uses_dynamic_components`).
2. The browser build's chunks (`vite.config.js`): Rolldown splits the shared code of 28 pages into dozens of small
   files, each one more round trip on a slow phone. Two named groups instead: the framework (react, react-dom,
   react-router, scheduler, emotion) and lucide's icons. Only the browser build: the prerender's server build keeps
   its own splitting. (Vite 8 builds with Rolldown, where Rollup's `manualChunks` is ignored once `codeSplitting`
   is set, as Reflex sets it; these are `codeSplitting.groups`, the same thing in Rolldown's words.)

Each edit checks that the text it changes is there and fails the build loudly if a Reflex upgrade moved it."""

from __future__ import annotations

import re

from reflex_base.plugins.base import Plugin

ROOT_JSX = "app/root.jsx"
VITE_CONFIG = "vite.config.js"
RADIX_LOADER = re.compile(r'^[ \t]*"@radix-ui/themes": \(\) => import\("@radix-ui/themes"\),[ \t]*\n', re.M)
# The groups Reflex writes (one: env.json); ours go after it, browser build only.
GROUPS_ANCHOR = 'name: "reflex-env",\n            },\n'
FRAMEWORK_TEST = r"/[\\/]node_modules[\\/](?:react|react-dom|react-router|scheduler|@emotion[\\/][^\\/]+|cookie|set-cookie-parser|hoist-non-react-statics|stylis)[\\/]/"
ICONS_TEST = r"/[\\/]node_modules[\\/]lucide-react[\\/]/"
BROWSER_GROUPS = (
    "            ...(config.isSsrBuild ? [] : [\n"
    f'              {{ name: "framework", test: {FRAMEWORK_TEST}, priority: 20 }},\n'
    f'              {{ name: "icons", test: {ICONS_TEST}, priority: 10 }},\n'
    "            ]),\n"
)


class FrontendBuildError(RuntimeError):
    """The generated file no longer looks the way this plugin expects (a Reflex upgrade): fix the plugin."""


def drop_radix_loader(code: str) -> str:
    """The app root without the lazy loader of the whole Radix Themes namespace."""
    if "window.__reflex_load" not in code:
        raise FrontendBuildError("app/root.jsx has no lazy library loaders: is frontend_lazy_bundled_libraries on?")
    out, n = RADIX_LOADER.subn("", code)
    if n != 1:
        raise FrontendBuildError(f"expected one @radix-ui/themes loader in app/root.jsx, found {n}")
    if 'import * as radix_ui_themes from "@radix-ui/themes"' in out:
        raise FrontendBuildError("app/root.jsx still imports the whole @radix-ui/themes namespace")
    return out


def add_browser_chunks(code: str) -> str:
    """vite.config.js with the framework and icon chunks in the browser build."""
    if "defineConfig((config) =>" not in code:
        raise FrontendBuildError("vite.config.js no longer passes the build's config to a function")
    if code.count(GROUPS_ANCHOR) != 1:
        raise FrontendBuildError("vite.config.js no longer has Reflex's one codeSplitting group (reflex-env)")
    return code.replace(GROUPS_ANCHOR, GROUPS_ANCHOR + BROWSER_GROUPS)


def _uses_dynamic_components() -> bool:
    """Whether anything registered a library for components evaluated on the client (beyond Reflex's defaults and
    Radix Themes, which the app root itself registers)."""
    from reflex_base.registry import RegistrationContext, _default_bundled_libraries

    bundled = set(RegistrationContext.ensure_context().bundled_libraries)
    return bool(bundled - set(_default_bundled_libraries()) - {"@radix-ui/themes"})


class FrontendBuild(Plugin):
    """Wired in rxconfig.py; see the module docstring."""

    def pre_compile(self, **context) -> None:
        add = context["add_modify_task"]
        if not _uses_dynamic_components():
            add(ROOT_JSX, drop_radix_loader)
        add(VITE_CONFIG, add_browser_chunks)
