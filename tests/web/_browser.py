"""What the browser tests share: a page logged in as a user (that fails the test on an uncaught
error in the page), and moving between image coordinates and the page on #editor-canvas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def login(context, live, username: str, password: str) -> None:
    """Log the browser context in through the API (the session cookie is then the page's)."""
    r = context.request.post(f"{live.url}/api/v1/auth/login", data={"username": username, "password": password})
    assert r.ok, r.text()


@contextmanager
def logged_in(browser, live, username: str, password: str, *, width: int = 1400, height: int = 900) -> Iterator:
    """A new page whose context is logged in as `username`; on the way out the context closes and
    the test fails if the page threw an uncaught error."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    errors: list[str] = []
    try:
        login(ctx, live, username, password)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page
    finally:
        ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def next_frames(page) -> None:
    """Wait until two animation frames have passed (what was changed is drawn)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def canvas_view(page, canvas: str = "editor-canvas") -> tuple[float, float, float, float]:
    """The canvas's view as it drew it last: scale, tx, ty (screen = image × scale + t) and dpr."""
    s, tx, ty, dpr = (float(v) for v in page.get_attribute(f"#{canvas}", "data-view").split(","))
    return s, tx, ty, dpr


def to_page(page, x: float, y: float, canvas: str = "editor-canvas") -> tuple[float, float]:
    """Image coordinates → page coordinates."""
    box = page.locator(f"#{canvas}").bounding_box()
    s, tx, ty, _ = canvas_view(page, canvas)
    return box["x"] + x * s + tx, box["y"] + y * s + ty


def drag(page, a, b, steps: int = 8) -> None:
    """A left-button drag from image point `a` to `b` in `steps` moves."""
    page.mouse.move(*to_page(page, *a))
    page.mouse.down()
    page.mouse.move(*to_page(page, *b), steps=steps)
    page.mouse.up()
