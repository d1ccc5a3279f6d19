"""Headless Chromium for tests that look at a page as a person would.

The browser is Debian's Chromium (`make browser` installs it, as root), driven by Playwright
(a dev dependency) through `executable_path`: Playwright's own browser download is never
used. Every page is opened offline: the context has no network and every request that is
not a `file://` URL is recorded and refused.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# The flags the machine's own probe uses: without the background-networking ones Chromium
# keeps trying to reach its update and sync hosts.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = (
    "Chromium not found (TABML_CHROMIUM, or chromium on PATH): `make browser` installs "
    "Debian's package (apt-get install -y chromium, as root)"
)


def chromium() -> str | None:
    """The Chromium executable: $TABML_CHROMIUM, else the first of CANDIDATES on PATH."""
    named = os.environ.get("TABML_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@dataclass
class Visit:
    """What a page did while it was open."""

    page: object  # playwright.sync_api.Page
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions


@contextmanager
def open_offline(
    url: str, executable: str, timezone: str = "UTC", width: int = 1100, offline: bool = True
) -> Iterator[Visit]:
    """Open `url` in headless Chromium with no network; yield what it requested and logged.

    `offline=False` (a page served by a local static server, e.g. the edge demo): the
    browser's network is on, but every request outside `url`'s origin is refused.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            context = browser.new_context(offline=offline, timezone_id=timezone,
                                          viewport={"width": width, "height": 900})  # fmt: skip
            page = context.new_page()
            visit = Visit(page)

            origin = "file://" if url.startswith("file://") else "/".join(url.split("/")[:3]) + "/"

            def route(found):
                if found.request.url.startswith(origin):
                    found.continue_()
                else:
                    visit.refused.append(found.request.url)
                    found.abort()

            context.route("**/*", route)
            page.on("request", lambda request: visit.requests.append(request.url))
            page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: visit.errors.append(str(error)))
            page.goto(url, wait_until="load")
            yield visit
        finally:
            browser.close()
