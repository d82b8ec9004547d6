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

3. The prerendered pages (`post_build`, before Reflex precompresses them): the head preloads every module of the
   app and React Router's module script starts it as soon as the page is parsed, so the scripts' downloads compete
   with the stylesheets that the first paint needs, and on a fast load Chromium runs them before its first paint:
   the loading frame (components/layout.py) waits for them, and Lighthouse counts every module as blocking that
   paint. Now (`after_first_paint`) the page first paints what the server sent (the loading frame), then the script
   adds the same module preloads (all in parallel, as before) and starts the app. A tab opened in the background
   starts at once (it paints no frame until shown).

Each edit checks that the text it changes is there and fails the build loudly if a Reflex upgrade moved it."""

from __future__ import annotations

import json
import re
from pathlib import Path

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


# React Router's <Scripts/>: one inline module script per prerendered page that imports the app's modules and starts it.
MODULE_SCRIPT = re.compile(r'(<script type="module"[^>]*>)(.*?)(</script>)', re.S)
MODULE_PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')
STATIC_IMPORT = re.compile(r'^import (?:\* as (\w+) from )?("[^"\n]+");$', re.M)
# Wait for the next frame to be painted (rAF runs just before it, the timeout just after); a hidden tab paints
# nothing until shown, so it starts at once; and a visible one whose frames never come starts after half a second.
PAINT_FIRST = ('if (document.visibilityState === "visible") await new Promise((go) => '
               '{ requestAnimationFrame(() => setTimeout(go, 0)); setTimeout(go, 500); });\n')


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


def after_first_paint(html: str) -> str:
    """A prerendered page that paints before its scripts download: the head's module preloads move into the
    app-starting script, after the wait for the first frame. Its static imports become awaited dynamic imports in
    the same order (a static import runs before any line of its script), so the modules still evaluate one after
    another exactly as before."""
    scripts = [m for m in MODULE_SCRIPT.finditer(html) if "__reactRouterRouteModules" in m.group(2)]
    if len(scripts) != 1:
        raise FrontendBuildError(f"expected one React Router module script in a prerendered page, found {len(scripts)}")
    m = scripts[0]
    body = m.group(2)
    if body.startswith(PAINT_FIRST):
        return html  # already done (a second post_build on the same output)
    if not STATIC_IMPORT.search(body):
        raise FrontendBuildError("React Router's module script has no static imports left to defer: did it change?")
    deferred = STATIC_IMPORT.sub(lambda i: f"const {i.group(1)} = await import({i.group(2)});" if i.group(1)
                                 else f"await import({i.group(2)});", body)
    if re.search(r"^\s*import[\s{*]", deferred, re.M):
        raise FrontendBuildError("React Router's module script has a static import this plugin cannot defer")
    head_end = html.find("</head>")
    if not 0 < head_end < m.start():
        raise FrontendBuildError("a prerendered page without its head before React Router's module script")
    head = html[:head_end]
    preloads = MODULE_PRELOAD.findall(head)
    if not preloads:
        raise FrontendBuildError("React Router's module preloads are no longer in the page's head: did it change?")
    add_preloads = ("for (const href of " + json.dumps(preloads).replace("</", "<\\/") + ") { const link = "
                    'document.createElement("link"); link.rel = "modulepreload"; link.href = href; '
                    "document.head.appendChild(link); }\n")
    return (MODULE_PRELOAD.sub("", head) + html[head_end: m.start()] + m.group(1) + PAINT_FIRST + add_preloads + deferred
            + m.group(3) + html[m.end():])


def defer_pages(static_dir) -> int:
    """after_first_paint on every prerendered page of a build; how many pages it changed."""
    pages = changed = 0
    for page in sorted(Path(static_dir).rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        if "__reactRouterRouteModules" not in html:
            continue  # a static page of ours (offline.html): no app to start
        pages += 1
        out = after_first_paint(html)
        if out != html:
            page.write_text(out, encoding="utf-8")
            changed += 1
    if not pages:
        raise FrontendBuildError(f"no prerendered page with React Router's module script under {static_dir}")
    return changed


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

    def post_build(self, **context) -> None:
        defer_pages(context["static_dir"])
