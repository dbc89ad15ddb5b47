"""The browser side of the page tests: Debian's Chromium headless through Debian's chromedriver
(nothing downloaded), axe-core from npm in a cache directory, the pages served from a thread of
their own (Selenium's calls block), and screenshots as test artifacts."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from cards.db import Database
from cards.migrate import upgrade
from tests.web.conftest import Pages, start_pages

T = TypeVar("T")
AXE_VERSION = "4.10.3"
AXE_DIR = Path.home() / ".cache" / "minutecard" / f"axe-core-{AXE_VERSION}"
ARTIFACTS = Path(__file__).resolve().parents[2] / ".pytest_artifacts" / "pay-pages"
WIDTHS = (390, 1280)
WAIT_S = 10
"""How long a lookup waits for an element to appear (a page after a form's redirect)."""
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, installed from npm on first use."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund",
             f"axe-core@{AXE_VERSION}"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return script.read_text()


def chromium(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    # A German caller's browser: the pages pick the language from Accept-Language.
    options.add_experimental_option("prefs", {"intl.accept_languages": "de-DE,de"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(WAIT_S)
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """One Chromium for the module (starting one costs about a second)."""
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def fresh(browser: webdriver.Chrome) -> webdriver.Chrome:
    """The module's browser with no cookies of an earlier test."""
    browser.delete_all_cookies()
    browser.set_window_size(1280, 900)
    return browser


def shoot(driver: webdriver.Chrome, name: str) -> None:
    """The page at each width, whole height, under .pytest_artifacts/pay-pages/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, max(int(height) + 120, 600))
        driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    driver.set_window_size(1280, 900)


def axe_violations(driver: webdriver.Chrome, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page shown (WebDriver's scripts are not
    bound by the page's CSP, so the pages need no exception for it)."""
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations));"
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]


class Served:
    """The pages (and any extra little sites) served from an event loop in a thread; the test
    hands it coroutines to run there (the database lives in that loop)."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.db_url, self.tmp_path = db_url, tmp_path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.db = self.run(self._open())
        self.runners: list[web.AppRunner] = []

    async def _open(self) -> Database:
        db = Database(self.db_url)
        if db.is_sqlite:
            await upgrade(db)
        return db

    def run(self, coro: Awaitable[T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(_wrap(coro), self.loop)
        return future.result(timeout=60)

    def pages(self, frame_ancestors: tuple[str, ...] = (), **kwargs: str) -> Pages:
        pages, runner = self.run(start_pages(self.db, self.tmp_path, frame_ancestors, **kwargs))
        self.runners.append(runner)
        return pages

    def site(self, port: int, routes: Callable[[web.Application], None]) -> None:
        async def serve() -> web.AppRunner:
            app = web.Application()
            routes(app)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            return runner

        self.runners.append(self.run(serve()))

    def close(self) -> None:
        async def stop() -> None:
            for runner in self.runners:
                await runner.cleanup()
            await self.db.close()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def _wrap(coro: Awaitable[T]) -> T:
    return await coro


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[Served]:
    world = Served(db_url, tmp_path)
    yield world
    world.close()
