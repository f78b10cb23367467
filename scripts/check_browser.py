"""Open every page of the built site in headless Chromium, as a reader would (`make browser`).

`make test` runs this after the book build. It serves `_build/html` on 127.0.0.1 (a free port),
opens each page at desktop (1366 px) and phone (390 px) widths and fails on:

- a JavaScript console error (a resource on another host is not fetched and not counted: the
  check runs offline, so the Colab badge and similar images are reported as "not checked");
- an image from the site that did not load;
- horizontal overflow: the page is wider than the window, at either width;
- an output line wider than its box at desktop width (a table, or a text line that would need
  sideways scrolling), or a display equation wider than the text column at desktop width;
- an exercise solution not collapsed (its code and output must be hidden behind a toggle that
  says "solution"), or a stub that shows a traceback instead of its "Your turn" note;
- an error output outside an exercise stub;
- more than one search field in view, besides the search page's own (the theme once showed a
  second one in the top navbar);
- a search for "Poisson" that finds nothing.

It saves screenshots of every page at both widths under `_build/screenshots/`. MathJax, which the
site loads from a CDN, is served from `scripts/js/node_modules` when `npm` installed it there, so
equations are rendered and measured offline. Without Selenium or Chromium the check is skipped
with a message, unless BROWSER_CHECK_REQUIRED=1 (set by `.ci/run`), when that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
MATHJAX_DIR = ROOT / "scripts" / "js" / "node_modules" / "mathjax" / "es5"
MATHJAX_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@3/es5/")
MATHJAX_LOCAL = "/__mathjax__/"
WIDTHS = {"desktop": 1366, "phone": 390}
HEIGHT = 900
SEARCH_TERM = "Poisson"
# Folders of the build that hold assets or reports, not pages.
NOT_PAGES = ("_static", "_sources", "_images", "reports", "_downloads")
SCREENSHOT_PART_PX = 12000  # Chromium cannot capture much taller than 16k px in one image


__all__ = ["Measures", "check_pages", "console_problems", "find_browser", "main",
           "measure_problems", "rewrite_html", "site_pages"]


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the built site, as paths relative to `site` (sorted)."""
    pages = []
    for path in site.rglob("*.html"):
        relative = path.relative_to(site)
        if relative.parts[0] not in NOT_PAGES:
            pages.append(relative.as_posix())
    return sorted(pages)


def find_browser(which=shutil.which, environ=os.environ) -> tuple[str, str] | None:
    """(Chromium binary, chromedriver), or None when either is missing.

    In order: $CHROME_BINARY and $CHROMEDRIVER; GitHub's runners (Google Chrome with the matching
    driver in $CHROMEWEBDRIVER); Debian's chromium and chromium-driver.
    """
    browser, driver = environ.get("CHROME_BINARY"), environ.get("CHROMEDRIVER")
    if environ.get("CHROMEWEBDRIVER"):
        browser = browser or which("google-chrome")
        driver = driver or str(Path(environ["CHROMEWEBDRIVER"]) / "chromedriver")
    browser = browser or next((found for name in ("chromium", "chromium-browser", "google-chrome")
                               if (found := which(name))), None)
    driver = driver or which("chromedriver")
    if driver is None and Path("/usr/lib/chromium/chromedriver").exists():
        driver = "/usr/lib/chromium/chromedriver"
    return (browser, driver) if browser and driver else None


def rewrite_html(text: str, local_mathjax: bool) -> str:
    """The page as served to the test browser: MathJax from the local copy when there is one."""
    return MATHJAX_CDN.sub(MATHJAX_LOCAL, text) if local_mathjax else text


def is_local(url: str) -> bool:
    """Whether a URL points at the local test server (or is relative/inline)."""
    host = urlsplit(url).hostname
    return host is None or host in ("127.0.0.1", "localhost")


def console_problems(entries: list[dict]) -> tuple[list[str], int]:
    """Console errors that count, and how many failed loads of other hosts were left aside.

    `entries` are Chromium's browser-log records ({"level", "message", "source"?}). A resource on
    another host cannot load offline (every other host is unreachable here): that is reported as
    a count, not an error. Everything else at level SEVERE is an error.
    """
    problems, external = [], 0
    for entry in entries:
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        url = message.split(" ", 1)[0]
        if ("Failed to load resource" in message or "net::ERR_" in message) and url.startswith(
                "http") and not is_local(url):
            external += 1
            continue
        problems.append(f"console error: {message[:300]}")
    return problems, external


@dataclass
class Measures:
    """What the page reported about itself (see MEASURE_JS)."""

    doc_width: int = 0
    view_width: int = 0
    overflowing: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    external_images: int = 0
    images: int = 0
    wide_outputs: list[str] = field(default_factory=list)
    outputs: int = 0
    wide_equations: list[str] = field(default_factory=list)
    equations: int = 0
    solutions: int = 0
    open_solutions: list[str] = field(default_factory=list)
    unlabelled_solutions: list[str] = field(default_factory=list)
    stubs: int = 0
    stubs_with_traceback: list[str] = field(default_factory=list)
    stray_errors: list[str] = field(default_factory=list)
    search_fields: int = 0


def measure_problems(page: str, width: str, m: Measures) -> list[str]:
    """Problems of one page at one width, from what the page measured."""
    where = f"{page} @ {width}"
    problems = []
    if m.doc_width > m.view_width + 1:
        culprits = "; ".join(m.overflowing[:3]) or "no single element found"
        problems.append(f"{where}: page is {m.doc_width} px wide in a {m.view_width} px window "
                        f"(widest: {culprits})")
    problems += [f"{where}: image did not load: {src}" for src in m.broken_images]
    if width == "desktop":
        problems += [f"{where}: output wider than its box: {text}" for text in m.wide_outputs]
        problems += [f"{where}: display equation wider than the column: {text}"
                     for text in m.wide_equations]
    problems += [f"{where}: exercise solution not collapsed: {t}" for t in m.open_solutions]
    problems += [f"{where}: solution toggle does not say 'solution': {t}"
                 for t in m.unlabelled_solutions]
    problems += [f"{where}: exercise stub shows a traceback instead of its note: {t}"
                 for t in m.stubs_with_traceback]
    problems += [f"{where}: error output outside an exercise stub: {t}" for t in m.stray_errors]
    if m.search_fields > 1:
        problems.append(f"{where}: {m.search_fields} search fields in view (one is enough)")
    return problems


# Runs in the page; returns the fields of Measures.
MEASURE_JS = r"""
const done = arguments[arguments.length - 1];
const snippet = (el) => (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 90);
const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
  (el.classList.length ? "." + [...el.classList].slice(0, 3).join(".") : "") +
  ` (${Math.round(el.getBoundingClientRect().right)} px) "${snippet(el).slice(0, 50)}"`;
const scrolls = (el) => {
  for (let a = el.parentElement; a; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX;
    if (o === "auto" || o === "scroll" || o === "hidden" || o === "clip") return true;
  }
  return false;
};
const waitMath = (window.MathJax && MathJax.startup && MathJax.startup.promise) ||
  Promise.resolve();
const images = [...document.images];
images.forEach((img) => { img.loading = "eager"; });
const imagesDone = Promise.all(images.map((img) => img.complete ? null :
  new Promise((r) => { img.onload = img.onerror = r; setTimeout(r, 10000); })));
Promise.all([waitMath, imagesDone]).then(() => {
  const root = document.documentElement;
  const view = root.clientWidth;
  const out = {doc_width: root.scrollWidth, view_width: view, overflowing: [],
    broken_images: [], external_images: 0, images: 0, wide_outputs: [], outputs: 0,
    wide_equations: [], equations: 0,
    solutions: 0, open_solutions: [], unlabelled_solutions: [], stubs: 0,
    stubs_with_traceback: [], stray_errors: [],
    search_fields: [...document.querySelectorAll(".search-button-field, form.bd-search")]
      .filter((el) => el.checkVisibility() && !el.closest(".bd-search-container")).length};
  if (out.doc_width > view + 1) {
    const wide = [...document.body.querySelectorAll("*")].filter((el) =>
      el.getBoundingClientRect().right > view + 1 && el.checkVisibility() && !scrolls(el));
    // the innermost offenders explain the overflow best
    out.overflowing = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o)))
      .slice(0, 5).map(describe);
  }
  for (const img of images) {
    const src = img.currentSrc || img.src;
    if (!src.startsWith(location.origin)) { out.external_images++; continue; }
    out.images++;
    if (!img.complete || img.naturalWidth === 0) out.broken_images.push(src);
  }
  for (const box of document.querySelectorAll("div.cell_output > div.output")) {
    out.outputs++;
    let wide = box.scrollWidth > box.clientWidth + 1;
    let text = snippet(box);
    for (const pre of box.querySelectorAll("pre")) {
      const saved = pre.style.whiteSpace;
      pre.style.whiteSpace = "pre";  // measure lines as written, whatever the wrapping CSS
      if (pre.scrollWidth > pre.clientWidth + 1) {
        wide = true;
        const lines = pre.textContent.split("\n");
        text = lines.reduce((a, b) => (b.length > a.length ? b : a), "").trim().slice(0, 90);
      }
      pre.style.whiteSpace = saved;
    }
    if (wide && box.checkVisibility()) out.wide_outputs.push(text);
  }
  for (const eq of document.querySelectorAll("mjx-container[display='true'], div.math")) {
    if (eq.matches("div.math") && eq.querySelector("mjx-container")) continue;
    out.equations++;
    if (eq.scrollWidth > eq.clientWidth + 1) out.wide_equations.push(snippet(eq).slice(0, 60));
  }
  for (const cell of document.querySelectorAll("div.cell")) {
    const source = cell.querySelector("div.cell_input pre");
    const code = source ? source.textContent.trim() : "";
    const isStub = cell.classList.contains("tag_raises-exception");
    if (code.startsWith("# Solution")) {
      out.solutions++;
      const shown = [...cell.querySelectorAll("div.cell_input, div.cell_output")]
        .filter((el) => el.checkVisibility());
      if (shown.length) out.open_solutions.push(snippet(shown[0]));
      const toggle = cell.querySelector("summary");
      if (!toggle || !/solution/i.test(toggle.textContent)) {
        out.unlabelled_solutions.push(toggle ? snippet(toggle) : "no toggle");
      }
    }
    if (isStub) {
      out.stubs++;
      if (cell.querySelector("div.cell_output .traceback, div.cell_output .output.error")) {
        out.stubs_with_traceback.push(code.split("\n")[0].slice(0, 80));
      }
      continue;
    }
    for (const o of cell.querySelectorAll("div.cell_output > div.output")) {
      const t = o.textContent;
      if (o.matches(".traceback, .error") || /Traceback \(most recent call last\)/.test(t) ||
          /^\w+(Error|Exception)\b/m.test(t)) {
        out.stray_errors.push(snippet(o));
      }
    }
  }
  done(out);
}).catch((e) => done({error: String(e)}));
"""

SEARCH_JS = r"""
const done = arguments[arguments.length - 1];
const started = Date.now();
(function poll() {
  const items = document.querySelectorAll("#search-results li");
  const summary = document.querySelector("#search-results .search-summary, #search-results p");
  const finished = summary && /found|did not match/i.test(summary.textContent);
  if (items.length || finished || Date.now() - started > 20000) {
    done({results: items.length, summary: summary ? summary.textContent.trim() : ""});
  } else { setTimeout(poll, 200); }
})();
"""


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; pages get a local MathJax; /__mathjax__/ serves that copy."""

    local_mathjax = False

    def log_message(self, *args) -> None:  # quiet
        pass

    def translate_path(self, path: str) -> str:
        if path.startswith(MATHJAX_LOCAL) and self.local_mathjax:
            relative = urlsplit(path).path[len(MATHJAX_LOCAL):]
            return str(MATHJAX_DIR / relative)
        return super().translate_path(path)

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = rewrite_html(path.read_text(encoding="utf-8"), self.local_mathjax).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def start_server(site: Path) -> http.server.ThreadingHTTPServer:
    """Serve `site` on 127.0.0.1 at a free port, in a daemon thread."""
    Handler.local_mathjax = (MATHJAX_DIR / "tex-mml-chtml.js").exists()
    handler = functools.partial(Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_driver(browser: str, chromedriver: str):
    """Headless Chromium that cannot reach any host but 127.0.0.1."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                     f"--window-size={WIDTHS['desktop']},{HEIGHT}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the driver's and Debian's chromium wrapper's chatter would drown the report
    service = Service(executable_path=chromedriver, log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def set_width(driver, width: int, height: int = HEIGHT) -> None:
    """Make the page's viewport exactly `width` x `height` px (headless: no window chrome)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def screenshot(driver, target: Path, width: int) -> list[Path]:
    """Full-page PNG(s) of the current page: one file per SCREENSHOT_PART_PX of height.

    The viewport is stretched to each part's height and scrolled there (Chromium's
    captureBeyondViewport mis-renders long pages), then set back to the window's height.
    """
    import base64

    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    parts = max(1, -(-height // SCREENSHOT_PART_PX))
    written = []
    try:
        for part in range(parts):
            top = part * SCREENSHOT_PART_PX
            set_width(driver, width, min(SCREENSHOT_PART_PX, height - top))
            driver.execute_script("window.scrollTo(0, arguments[0]);", top)
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
            path = target if parts == 1 else target.with_name(f"{target.stem}-{part + 1}.png")
            path.write_bytes(base64.b64decode(shot["data"]))
            written.append(path)
    finally:
        set_width(driver, width)
        driver.execute_script("window.scrollTo(0, 0);")
    return written


def skip(reason: str) -> int:
    """Skip with a message, or fail where the browser check is required (CI)."""
    if os.environ.get("BROWSER_CHECK_REQUIRED") == "1":
        print(f"BROWSER CHECK FAILED: {reason} (BROWSER_CHECK_REQUIRED=1)")
        return 1
    print(f"BROWSER CHECK SKIPPED: {reason}. Install Debian's chromium and chromium-driver "
          "(apt-get install chromium chromium-driver) and `make setup` to run it.")
    return 0


def check_pages(site: Path, browser: tuple[str, str], screenshots: Path | None,
                search: str | None = SEARCH_TERM) -> tuple[list[str], dict[str, int]]:
    """Open every page of `site` at each width; the problems found and what was counted.

    `screenshots`: the folder for the PNGs (emptied first), or None for none. `search`: the term
    searched on search.html (None: no search check).
    """
    from selenium.common.exceptions import WebDriverException

    pages = site_pages(site)
    if screenshots is not None:
        shutil.rmtree(screenshots, ignore_errors=True)
        screenshots.mkdir(parents=True)
    server = start_server(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems: list[str] = []
    counts = dict(pages=len(pages), loads=0, checks=0, images=0, external=0, outputs=0,
                  equations=0, solutions=0, stubs=0, shots=0, search_results=0)
    driver = make_driver(*browser)
    try:
        for width_name, width in WIDTHS.items():
            set_width(driver, width)
            for page in pages:
                driver.get_log("browser")  # drop what earlier pages logged
                try:
                    driver.get(base + page)
                    raw = driver.execute_async_script(MEASURE_JS)
                except WebDriverException as error:  # e.g. a page that never finishes loading
                    problems.append(f"{page} @ {width_name}: could not be measured: "
                                    f"{error.msg or type(error).__name__}")
                    continue
                if "error" in raw:
                    problems.append(f"{page} @ {width_name}: measuring failed: {raw['error']}")
                    continue
                m = Measures(**raw)
                console, external = console_problems(driver.get_log("browser"))
                problems += [f"{page} @ {width_name}: {p}" for p in console]
                problems += measure_problems(page, width_name, m)
                if screenshots is not None:
                    name = Path(page).with_suffix("").as_posix().replace("/", "__")
                    counts["shots"] += len(screenshot(
                        driver, screenshots / f"{name}-{width_name}.png", width))
                counts["loads"] += 1
                # console, overflow, images, outputs, equations, solutions, stubs, stray errors,
                # search fields
                counts["checks"] += 9
                counts["images"] += m.images
                counts["external"] += external + m.external_images
                if width_name == "desktop":
                    for key in ("outputs", "equations", "solutions", "stubs"):
                        counts[key] += getattr(m, key)
        if search is not None:
            driver.get(f"{base}search.html?q={search}")
            result = driver.execute_async_script(SEARCH_JS)
            counts["checks"] += 1
            counts["search_results"] = result["results"]
            if not result["results"]:
                problems.append(f"search for {search!r} found nothing ({result['summary']!r})")
    finally:
        driver.quit()
        server.shutdown()
    return problems, counts


def main() -> int:
    start = time.monotonic()
    if not (SITE / "index.html").exists():
        print(f"BROWSER CHECK FAILED: no built site at {SITE}; run `make book` first.")
        return 1
    try:
        import selenium  # noqa: F401
    except ImportError:
        return skip("Selenium is not installed")
    found = find_browser()
    if found is None:
        return skip("no Chromium with chromedriver found")
    if not (MATHJAX_DIR / "tex-mml-chtml.js").exists():
        print("browser check: no local MathJax (run `make setup` with npm): equations are "
              "measured unrendered.")
    problems, c = check_pages(SITE, found, SCREENSHOTS)
    for problem in problems:
        print("BROWSER CHECK:", problem)
    print(f"browser check: {c['pages']} pages x {len(WIDTHS)} widths = {c['loads']} page loads, "
          f"{c['checks']} checks, {c['images']} images loaded, {c['outputs']} outputs and "
          f"{c['equations']} display equations measured, {c['solutions']} solutions and "
          f"{c['stubs']} stubs, search {SEARCH_TERM!r}: {c['search_results']} result(s); "
          f"{c['external']} resources on other hosts not checked (offline); {c['shots']} "
          f"screenshots in {SCREENSHOTS.relative_to(ROOT)}/; {len(problems)} problem(s); "
          f"{time.monotonic() - start:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
