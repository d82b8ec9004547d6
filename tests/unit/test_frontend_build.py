"""govsocial_app/frontend_build.py, the Reflex plugin that trims a phone's first scripts: its edits to the files Reflex
generates (the app root, vite.config.js), made on what this Reflex version really generates from rxconfig.py."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import reflex as rx

from govsocial_app import frontend_build as fb


@pytest.fixture
def app_root() -> str:
    """The app root Reflex writes (app/root.jsx) for this project's config, Radix Themes bundled as in a real compile."""
    from reflex.compiler.compiler import _compile_app
    from reflex_base.components.dynamic import _bundle_library

    _bundle_library("@radix-ui/themes")  # compile_app does this for the Radix Themes plugin's dependency
    return _compile_app(rx.fragment())


@pytest.fixture
def vite_config() -> str:
    from reflex.utils import frontend_skeleton
    from reflex_base.config import get_config

    return frontend_skeleton._compile_vite_config(get_config())


def test_the_project_config_turns_on_what_the_plugin_relies_on():
    from reflex_base.config import get_config

    config = get_config()
    assert config.frontend_lazy_bundled_libraries is True
    assert config.frontend_compression_formats == ["brotli", "gzip"]  # brotli preferred, gzip for the rest
    assert [type(p) for p in config.plugins].count(fb.FrontendBuild) == 1


def test_the_app_root_loses_the_radix_themes_loader_and_keeps_the_rest(app_root):
    assert 'import * as radix_ui_themes from "@radix-ui/themes"' not in app_root  # lazy: no eager namespace import
    assert '"@radix-ui/themes": () => import("@radix-ui/themes")' in app_root
    out = fb.drop_radix_loader(app_root)
    assert "@radix-ui/themes" not in out.split("window.__reflex_load")[0].split("const loaders")[1]
    assert 'import("@radix-ui/themes")' not in out
    # Everything else is untouched: the core libraries on window.__reflex, the loader function, the layout.
    assert out == app_root.replace('    "@radix-ui/themes": () => import("@radix-ui/themes"),\n', "")
    for kept in ('"react": React', "window.__reflex_load = () =>", "export function Layout", "export default function App"):
        assert kept in out


def test_an_app_root_without_lazy_loaders_fails_the_build_loudly():
    with pytest.raises(fb.FrontendBuildError):
        fb.drop_radix_loader('import * as radix_ui_themes from "@radix-ui/themes";\nwindow.__reflex = {};\n')
    with pytest.raises(fb.FrontendBuildError):  # lazy, but the line moved: say so rather than ship the namespace
        fb.drop_radix_loader("window.__reflex_load = () => {};\nconst loaders = {};\n")


def test_the_browser_build_gets_a_framework_and_an_icons_chunk(vite_config):
    out = fb.add_browser_chunks(vite_config)
    assert out.count('name: "framework"') == 1 and out.count('name: "icons"') == 1
    assert 'name: "reflex-env"' in out  # Reflex's own group stays, first
    assert out.index('name: "reflex-env"') < out.index('name: "framework"') < out.index('name: "icons"')
    assert "config.isSsrBuild ? [] :" in out  # the prerender's server build keeps its own splitting
    assert "manualChunks" not in out  # Rolldown ignores it next to codeSplitting, which Reflex sets


def test_the_chunk_tests_pick_the_right_packages():
    import re

    def js_regex(literal: str) -> re.Pattern:
        return re.compile(literal.strip("/").replace("\\\\", "\\"))

    framework, icons = js_regex(fb.FRAMEWORK_TEST), js_regex(fb.ICONS_TEST)
    base = "/app/.web/node_modules/"
    for path in ("react/cjs/react.production.js", "react-dom/cjs/react-dom-client.production.js",
                 "react-router/dist/development/chunk.mjs", "scheduler/index.js", "@emotion/react/dist/emotion-react.esm.js",
                 "@emotion/cache/dist/emotion-cache.esm.js"):
        assert framework.search(base + path), path
    for path in ("react-moment/dist/index.js", "react-dropzone/dist/index.js", "react-plotly.js/react-plotly.js",
                 "@radix-ui/themes/dist/esm/index.js", "lucide-react/dist/esm/icons/inbox.js", "react-helmet/lib/Helmet.js"):
        assert not framework.search(base + path), path
    assert icons.search(base + "lucide-react/dist/esm/icons/inbox.js")
    assert not icons.search(base + "react/index.js")


def test_the_edited_vite_config_is_valid_javascript(vite_config, tmp_path):
    node = shutil.which("node")
    assert node, "node is needed to build the frontend (make deps)"
    path = tmp_path / "vite.config.mjs"
    path.write_text(fb.add_browser_chunks(vite_config))
    checked = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_a_changed_vite_config_fails_the_build_loudly(vite_config):
    with pytest.raises(fb.FrontendBuildError):
        fb.add_browser_chunks(vite_config.replace('name: "reflex-env"', 'name: "env"'))
    with pytest.raises(fb.FrontendBuildError):
        fb.add_browser_chunks(vite_config.replace("defineConfig((config) =>", "defineConfig(() =>"))


def test_the_plugin_registers_both_edits():
    tasks = []
    fb.FrontendBuild().pre_compile(add_modify_task=lambda path, fn: tasks.append((path, fn)), add_save_task=None,
                                   radix_themes_plugin=None, unevaluated_pages=[])
    assert tasks == [(fb.ROOT_JSX, fb.drop_radix_loader), (fb.VITE_CONFIG, fb.add_browser_chunks)]


# What React Router 7's <Scripts/> writes into every prerendered page (this Reflex's build, inbox.html), shortened.
PAGE = """<!DOCTYPE html><html><head><link rel="modulepreload" href="/assets/manifest-bf653b3d.js"/>\
<link rel="modulepreload" href="/assets/entry.client-BzihYZsN.js"/></head><body><main>Loading messages…</main>\
<script>window.__reactRouterContext = {"basename":"/"};</script><script type="module" async="">import "/assets/manifest-bf653b3d.js";
import * as route0 from "/assets/root-_GXhguil.js";
import * as route1 from "/assets/_inbox_._index-BnFRH4n3.js";
  
  window.__reactRouterRouteModules = {"root":route0,"routes/[inbox]._index":route1};

import("/assets/entry.client-BzihYZsN.js");</script><script id="_R_">requestAnimationFrame(function(){$RT=performance.now()});</script></body></html>"""


def _module_script(html: str) -> str:
    return html.split('<script type="module" async="">', 1)[1].split("</script>", 1)[0]


def test_the_app_starts_after_the_first_paint_with_its_modules_in_the_same_order():
    out = fb.after_first_paint(PAGE)
    script = _module_script(out)
    assert script.startswith(fb.PAINT_FIRST)  # before anything of the app is fetched or evaluated
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    # The head's preloads, all of them and in their order, start every download at once after the paint.
    assert lines[1].startswith('for (const href of ["/assets/manifest-bf653b3d.js", "/assets/entry.client-BzihYZsN.js"]) {')
    assert 'link.rel = "modulepreload"' in lines[1] and "document.head.appendChild(link)" in lines[1]
    assert lines[2:] == [
        'await import("/assets/manifest-bf653b3d.js");',
        'const route0 = await import("/assets/root-_GXhguil.js");',
        'const route1 = await import("/assets/_inbox_._index-BnFRH4n3.js");',
        'window.__reactRouterRouteModules = {"root":route0,"routes/[inbox]._index":route1};',
        'import("/assets/entry.client-BzihYZsN.js");',
    ]
    head = out.split("</head>")[0]
    assert "modulepreload" not in head  # nothing of the app downloads before the first paint
    # Everything else is as it was: the page, the other scripts.
    assert head == PAGE.split("</head>")[0].replace('<link rel="modulepreload" href="/assets/manifest-bf653b3d.js"/>', "").replace(
        '<link rel="modulepreload" href="/assets/entry.client-BzihYZsN.js"/>', "")
    assert out.split("</head>")[1].split('<script type="module"')[0] == PAGE.split("</head>")[1].split('<script type="module"')[0]
    assert out.split("</script>", 2)[2] == PAGE.split("</script>", 2)[2]
    assert fb.after_first_paint(out) == out  # a second pass changes nothing


def test_the_waiting_script_is_valid_javascript(tmp_path):
    node = shutil.which("node")
    assert node, "node is needed to build the frontend (make deps)"
    path = tmp_path / "start.mjs"
    path.write_text(_module_script(fb.after_first_paint(PAGE)))
    checked = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("page", [
    PAGE.replace("__reactRouterRouteModules", "__routeModules"),  # React Router renamed its globals
    PAGE + PAGE[PAGE.index('<script type="module"'):],  # two app scripts in one page
    PAGE.replace('import * as route0 from "/assets/root-_GXhguil.js";', 'import { x as route0 } from "/assets/root.js";'),
    PAGE.replace('import "/assets/manifest-bf653b3d.js";\nimport * as route0 from "/assets/root-_GXhguil.js";\n'
                 'import * as route1 from "/assets/_inbox_._index-BnFRH4n3.js";\n', ""),
    PAGE.replace('rel="modulepreload"', 'rel="preload"'),  # the preloads changed form
])
def test_a_page_this_plugin_does_not_understand_fails_the_build_loudly(page):
    with pytest.raises(fb.FrontendBuildError):
        fb.after_first_paint(page)


def test_the_build_step_defers_every_page_of_the_app_and_only_those(tmp_path):
    (tmp_path / "admin").mkdir()
    (tmp_path / "inbox.html").write_text(PAGE)
    (tmp_path / "admin" / "index.html").write_text(PAGE.replace("_inbox_._index", "admin"))
    offline = "<!DOCTYPE html><html><body>You are offline.</body></html>"
    (tmp_path / "offline.html").write_text(offline)
    fb.FrontendBuild().post_build(static_dir=tmp_path)
    assert _module_script((tmp_path / "inbox.html").read_text()).startswith(fb.PAINT_FIRST)
    assert _module_script((tmp_path / "admin" / "index.html").read_text()).startswith(fb.PAINT_FIRST)
    assert (tmp_path / "offline.html").read_text() == offline
    assert fb.defer_pages(tmp_path) == 0  # done already: nothing changed, and no error
    with pytest.raises(fb.FrontendBuildError):
        fb.defer_pages(tmp_path / "admin" / "nothing-here")
