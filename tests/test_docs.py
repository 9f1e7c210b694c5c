"""The built documentation site in a real browser (Debian's headless Chromium via Selenium).

Run after ``make docs``: a local HTTP server on 127.0.0.1 serves ``docs/_build/html`` and
Chromium opens every page, waits for MathJax, and checks that

- no page has a MathJax error (``mjx-merror``) or math left unrendered (``$...$``,
  ``\\(...\\)`` or ``\\[...\\]`` in the visible text);
- the API reference lists every name in ``kfsym.numeric.__all__`` and ``kfsym.derive.__all__``,
  each linked to its own page;
- the tutorial pages show their figures (every ``<img>`` loaded);

and saves screenshots of three pages to ``docs/_build/screenshots/``.

Opt-in, as CI runs it: ``make docs && KFSYM_REQUIRE_DOCS=1 .venv/bin/pytest tests/test_docs.py``.
Without ``KFSYM_REQUIRE_DOCS=1`` it skips (a plain ``make test`` needs no browser and no
site); with it, a missing site, Selenium or Chromium is a failure, not a skip.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kfsym.derive
import kfsym.numeric

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "_build" / "html"
SCREENSHOTS = ROOT / "docs" / "_build" / "screenshots"
REQUIRED = os.environ.get("KFSYM_REQUIRE_DOCS") == "1"

#: Figures each tutorial must show (the notebooks' plt.show() calls).
TUTORIAL_FIGURES = {
    "tutorials/01-kf-basics-proved.html": 9,
    "tutorials/02-prove-your-own.html": 1,
    "tutorials/03-from-one-step-to-a-filter.html": 3,
}
#: Pages photographed for a human to look at.
SCREENSHOT_PAGES = {
    "tutorial-kf-basics.png": (
        "tutorials/01-kf-basics-proved.html",
        "#the-tutorial-s-mistake-the-1-ellipse-does-not-hold-68",
    ),
    "derivations-gaussian.png": ("_generated/derivations/gaussian.html", "#derivation-gaussian-product"),
    "api-numeric.png": ("_generated/api/kfsym.numeric.html", ""),
}


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"KFSYM_REQUIRE_DOCS=1 but {reason}")
    pytest.skip(reason)


def _pages() -> list[str]:
    """Every HTML page of the site except Sphinx's search and index machinery."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(
        str(path.relative_to(SITE))
        for path in SITE.rglob("*.html")
        if path.name not in skip and "_modules" not in path.parts and "_static" not in path.parts
    )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if not REQUIRED:
        # Opt-in: a site left over from an older `make docs` would fail a plain `make test`.
        pytest.skip("the browser test runs after `make docs` with KFSYM_REQUIRE_DOCS=1 (as CI does)")
    if not (SITE / "index.html").is_file():
        _missing("the site is not built (run `make docs`)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[docs]')")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        _missing("Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root inside its sandbox
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(90)
    try:
        yield driver
    finally:
        driver.quit()


# Resolves with "none" (no MathJax on the page), "ok", or an error string.
_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const script = document.querySelector('script[src*="mathjax"], script[src*="MathJax"]');
if (!script) { done("none"); return; }
const started = Date.now();
(function poll() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        MathJax.startup.promise.then(() => done("ok"), (err) => done("error: " + err));
    } else if (Date.now() - started > 60000) {
        done("error: MathJax did not load from " + script.src);
    } else {
        setTimeout(poll, 100);
    }
})();
"""

# The visible text with rendered math, code and scripts removed.
_PROSE = """
const copy = document.querySelector('main, article, body').cloneNode(true);
copy.querySelectorAll('mjx-container, mjx-assistive-mml, pre, code, script, style, .highlight, textarea')
    .forEach((node) => node.remove());
return copy.innerText;
"""

_UNRENDERED = re.compile(r"\$\$?[^$\n]+\$\$?|\\\(|\\\)|\\\[|\\\]|\\begin\{")


def _open(browser: Any, url: str) -> str:
    browser.get(url)
    state = browser.execute_async_script(_WAIT_FOR_MATHJAX)
    assert state in {"none", "ok"}, f"{url}: {state}"
    return str(state)


def _math_problems(browser: Any, page: str) -> list[str]:
    """MathJax errors and math left as source text on the page the browser shows."""
    problems = []
    errors = browser.execute_script(
        "return Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))"
        ".map((e) => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 3);"
    )
    if errors:
        problems.append(f"{page}: MathJax error {errors}")
    # MathJax's noundefined package typesets an unknown macro as red text instead of an error
    undefined = browser.execute_script(
        "return Array.from(document.querySelectorAll('mjx-container [style*=\"color: red\"]'))"
        ".map((e) => e.textContent).slice(0, 3);"
    )
    if undefined:
        problems.append(f"{page}: undefined macro {undefined}")
    leftovers = _UNRENDERED.findall(browser.execute_script(_PROSE))
    if leftovers:
        problems.append(f"{page}: unrendered math {leftovers[:3]}")
    return problems


def test_math_checks_can_fail(server: str, browser: Any) -> None:
    """Negative control: a TeX error, an undefined macro and a stray $...$ are each caught."""
    scripts = re.findall(r"<script[^>]*>[^<]*</script>", (SITE / "_generated/derivations/gaussian.html").read_text())
    mathjax = "".join(tag for tag in scripts if "MathJax" in tag or "mathjax" in tag).replace("../../", "")
    page = SITE / "kfsym-negative-control.html"
    page.write_text(
        f"<html><head>{mathjax}</head><body><main>"
        r'<p>fine <span class="math notranslate nohighlight">\(x^2\)</span></p>'
        r'<p>broken <span class="math notranslate nohighlight">\(a}\)</span></p>'
        r'<p>undefined <span class="math notranslate nohighlight">\(\undefinedmacro x\)</span></p>'
        "<p>never typeset: $a + b$</p></main></body></html>"
    )
    try:
        assert _open(browser, server + page.name) == "ok"
        problems = " ".join(_math_problems(browser, page.name))
    finally:
        page.unlink()
    assert "MathJax error" in problems, problems
    assert "undefined macro" in problems, problems
    assert "$a + b$" in problems, problems


def test_every_page_renders_its_math(server: str, browser: Any) -> None:
    pages = _pages()
    assert len(pages) > 20, pages
    problems = []
    typeset = 0
    for page in pages:
        state = _open(browser, server + page)
        problems += _math_problems(browser, page)
        if state == "ok":
            typeset += browser.execute_script("return document.querySelectorAll('mjx-container').length;") > 0
    assert not problems, "\n".join(problems)
    # every derivation page and every tutorial really is typeset
    assert typeset >= 6 + len(TUTORIAL_FIGURES), typeset


def test_derivation_pages_show_every_registered_derivation(server: str, browser: Any) -> None:
    from kfsym.derive import all_derivations

    by_topic: dict[str, list[str]] = {}
    for derivation in all_derivations():
        by_topic.setdefault(derivation.name.split(".", 1)[0], []).append(derivation.name)
    missing = []
    for topic, names in by_topic.items():
        _open(browser, f"{server}_generated/derivations/{topic}.html")
        for name in names:
            anchor = "derivation-" + name.replace(".", "-").replace("_", "-")
            found = browser.execute_script(
                "const s = document.getElementById(arguments[0]);"
                "return s ? s.querySelectorAll('mjx-container').length : -1;",
                anchor,
            )
            if found is None or found <= 0:
                missing.append(f"{name} ({found})")
    assert not missing, f"derivations not shown as typeset math: {missing}"


@pytest.mark.parametrize("module", [kfsym.numeric, kfsym.derive], ids=lambda module: module.__name__)
def test_api_reference_lists_every_public_name(server: str, browser: Any, module: Any) -> None:
    _open(browser, f"{server}_generated/api/{module.__name__}.html")
    listed = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.autosummary td:first-child a'))"
        ".map((a) => [a.textContent.trim().split('(')[0], a.getAttribute('href')]);"
    )
    names = {name for name, _ in listed}
    missing = sorted(set(module.__all__) - names)
    assert not missing, f"{module.__name__}: not in the API reference: {missing}"
    for name, href in listed:  # each links to a page that documents it
        assert href.startswith("generated/"), (name, href)
        _open(browser, f"{server}_generated/api/{href.split('#')[0]}")
        anchor = f"{module.__name__}.{name}"
        assert browser.execute_script("return document.getElementById(arguments[0]) !== null;", anchor), anchor


@pytest.mark.parametrize("page", sorted(TUTORIAL_FIGURES))
def test_tutorial_pages_show_their_figures(server: str, browser: Any, page: str) -> None:
    _open(browser, server + page)
    images = browser.execute_script(
        "const imgs = Array.from(document.querySelectorAll('.cell_output img'));"
        "return Promise.all(imgs.map((img) => img.decode().then(() => null, () => null)))"
        ".then(() => imgs.map((img) => [img.getAttribute('src'), img.complete, img.naturalWidth]));"
    )
    assert len(images) >= TUTORIAL_FIGURES[page], images
    broken = [src for src, complete, width in images if not complete or width < 100]
    assert not broken, f"figures that did not load: {broken}"
    errors = browser.execute_script(
        "return document.querySelectorAll('.cell_output .output.error, .ansi-red-fg').length;"
    )
    assert errors == 0


def test_screenshots(server: str, browser: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for filename, (page, anchor) in SCREENSHOT_PAGES.items():
        _open(browser, server + page + anchor)
        path = SCREENSHOTS / filename
        path.unlink(missing_ok=True)
        assert browser.save_screenshot(str(path)), path
        assert path.stat().st_size > 10_000, path
