"""WCAG 2.1 A and AA checks of the page as the browser shows it, by axe-core (the frontend's dev dependency).

Run through the DevTools protocol (``page.evaluate``), so the app's Content-Security-Policy, which allows no
injected script, stays as it is in production."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def _axe_source() -> str:
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run npm ci in frontend/ (make test does)")
    return AXE.read_text()


def accessibility_violations(page: Page) -> list[str]:
    """One line per rule the page breaks: the rule, its impact, and up to three of the elements that break it."""
    page.evaluate(_axe_source())
    return page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
             return result.violations.map(v => `${v.id} (${v.impact}): ${v.help}; ` +
               v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' '))
                 .join(' | '));
           }""",
        RULE_TAGS,
    )


def assert_accessible(page: Page, where: str) -> None:
    violations = accessibility_violations(page)
    assert not violations, f"{where}: " + "\n".join(violations)
