// Accessibility checks for the browser tests: axe-core (from npm) run inside
// the page, and small helpers that say where keyboard focus is, also inside
// the widget's shadow root.
import assert from 'node:assert/strict';
import { readFile, mkdir, appendFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ARTIFACTS } from './harness.mjs';

const require = createRequire(import.meta.url);
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
let axeSource = null;

// Runs axe-core on the whole page (open shadow roots included) against WCAG
// 2.0 and 2.1, levels A and AA. The pages' CSP admits no injected <script>,
// so the engine is evaluated through the devtools protocol, as a test tool
// is, and the page's own policy stays as it is in production.
export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(axeSource);
  }
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' >> '), why: n.failureSummary })),
    }));
  }, WCAG_AA);
}

// Fails on any violation of impact serious or critical, naming the state;
// every violation found (of any impact) is written to
// artifacts/axe-violations.jsonl, so a run leaves its figures behind.
export async function assertAccessible(page, state) {
  const violations = await axe(page);
  await mkdir(ARTIFACTS, { recursive: true });
  await appendFile(path.join(ARTIFACTS, 'axe-violations.jsonl'),
    JSON.stringify({ state, count: violations.length, violations }) + '\n');
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map(describe), [], `axe: ${state}`);
  return violations;
}

function describe(v) {
  return `${v.impact} ${v.id} (${v.help}): ` + v.nodes.slice(0, 4).map((n) => `${n.target} — ${n.why}`).join(' | ');
}

// The focused element, followed into shadow roots: "tag#id.class" plus its
// accessible name as far as the DOM gives it, for assertions and messages.
export async function focused(page) {
  return page.evaluate(() => {
    let e = document.activeElement;
    while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
    if (!e) return null;
    const label = e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].textContent.trim()) ||
      (e.textContent || '').trim().slice(0, 60);
    return { tag: e.tagName.toLowerCase(), id: e.id, cls: e.className && typeof e.className === 'string' ? e.className : '',
      label, inWidget: !!(e.getRootNode && e.getRootNode().host) };
  });
}

// Asserts that focus is on the element the locator names (in the page or in
// the widget's shadow root), and says where it is otherwise.
export async function assertFocus(page, locator, what) {
  await locator.waitFor();
  const ok = await locator.evaluate((el) => {
    let e = document.activeElement;
    while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
    return e === el;
  });
  assert.ok(ok, `focus should be on ${what}, is on ${JSON.stringify(await focused(page))}`);
}

// Waits until focus has come to the element (focus moves after an event the
// page awaits, such as an ack), then asserts it.
export async function waitForFocus(page, locator, what, timeout = 10000) {
  await locator.waitFor({ timeout });
  const handle = await locator.elementHandle();
  try {
    await page.waitForFunction((el) => {
      let e = document.activeElement;
      while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
      return e === el;
    }, handle, { timeout });
  } catch {
    assert.fail(`focus should come to ${what}, is on ${JSON.stringify(await focused(page))}`);
  } finally {
    await handle.dispose();
  }
}

// Tabs forward `n` times, or until `stop(focusInfo)` is true; returns the
// places focus visited.
export async function tabThrough(page, n, { shift = false } = {}) {
  const seen = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    seen.push(await focused(page));
  }
  return seen;
}

// Is the page free of sideways scrolling at its current width?
export async function assertNoSidewaysScroll(page, what) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert.ok(sw <= cw + 1, `${what}: the page scrolls sideways (${sw} px of content in ${cw} px)`);
}
