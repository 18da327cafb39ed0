"""Every page of the developer tools and of the admin console, in a real browser: French, one
``h1``, every visible form control with an accessible name (what a screen reader announces),
each reachable with the Tab key from the skip link on, and no Content-Security-Policy
violation."""

from __future__ import annotations

import pytest

from tests.browser.tools import csp_violations, log_in_as_new_admin

pytestmark = pytest.mark.e2e

DOCTOR = "899700218896"

DEV_PAGES = ["/dev/debugger/", "/dev/requests", "/dev/requests/demo-web"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/clients",
    "/admin/clients/new",
    "/admin/clients/demo-web",
    "/admin/professionals",
    f"/admin/professionals?q={DOCTOR}",
    f"/admin/professionals/{DOCTOR}",
    "/admin/keys",
    "/admin/scenarios",
    "/admin/scenarios?client_id=demo-web",
    "/admin/audit",
]

#: The form controls of a page that a person uses, and whether each has a name and is
#: reachable with the keyboard (no negative tabindex, not disabled for nothing).
_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .map(e => {
    const labelled = (e.labels && [...e.labels].some(l => l.textContent.trim()))
      || (e.getAttribute('aria-label') || '').trim()
      || (e.getAttribute('aria-labelledby') || '').split(' ').some(
           id => id && document.getElementById(id)?.textContent.trim())
      || (e.tagName === 'BUTTON' && e.textContent.trim())
      || (e.type === 'submit' && (e.value || '').trim());
    return {what: e.outerHTML.slice(0, 120), named: !!labelled, tabbable: e.tabIndex >= 0};
  })"""


def _check(page, path: str, problems: list[str]) -> None:
    assert page.locator("html").get_attribute("lang") == "fr", path
    headings = page.locator("h1")
    if headings.count() != 1:
        problems.append(f"{path}: {headings.count()} h1")
    for control in page.evaluate(_CONTROLS):
        if not control["named"]:
            problems.append(f"{path}: no accessible name: {control['what']}")
        if not control["tabbable"]:
            problems.append(f"{path}: not reachable with Tab: {control['what']}")
    # The first Tab reaches the skip link, which leads to the main content.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement?.getAttribute('href')")
    if focused != "#contenu":
        problems.append(f"{path}: the first Tab reaches {focused!r}, not the skip link")


def test_every_tool_and_admin_page_is_labelled_and_keyboard_reachable(live_server, page):
    violations = csp_violations(page)
    problems: list[str] = []
    for path in DEV_PAGES:
        answer = page.goto(live_server.url(path))
        assert answer is not None and answer.status == 200, path
        _check(page, path, problems)

    page.goto(live_server.url("/admin/login"))
    _check(page, "/admin/login", problems)
    log_in_as_new_admin(page, live_server)
    for path in ADMIN_PAGES:
        answer = page.goto(live_server.url(path))
        assert answer is not None and answer.status == 200, path
        assert page.url.startswith(live_server.url("/admin/")), (path, page.url)
        _check(page, path, problems)
    assert problems == []
    assert violations == []
