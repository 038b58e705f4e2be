// The supervisor dashboard for every supervisor (WCAG 2.1 AA): axe-core
// finds no serious or critical violation at login, live (a chat waiting,
// one being offered, one active), in the review list and in the transcript
// dialog, at 1280 px and 320 px; its tables refresh in place (focus on
// "Assign…" stays) and nothing that refreshes is spoken; the tiles count
// what the queue table lists; force-assign picks the chat and the agent
// by name from the keyboard; the transcript dialog gives focus back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, customerWrites, dashboardLogin, agentLogin, goOnline, watchPage, screenshot } from './lib/harness.mjs';
import { assertAccessible, assertFocus, waitForFocus, assertNoSidewaysScroll } from './lib/a11y.mjs';

// Customers wait in the queue while nobody can take them (instead of becoming tickets).
const suite = useStack({
  env: { EXCEED_ROUTING_TICKET_WHEN_OFFLINE: 'false' },
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support', '--capacity', '1']],
    ['bob', 'agent', 'Bob Builder', ['--teams', 'support']],
    ['boss', 'supervisor', 'Sam Supervisor'],
  ],
});
const { stack, errors } = suite;

async function page(width = 1280, height = 900) {
  const p = await (await suite.browser.newContext({ viewport: { width, height } })).newPage();
  watchPage(p, `page ${width}`, errors);
  return p;
}

// Waits for the live lists to be fetched again `n` times.
async function refreshes(dash, n) {
  for (let i = 0; i < n; i++) {
    const before = await dash.evaluate(() => window.__listLoads || 0);
    await dash.waitForFunction((b) => (window.__listLoads || 0) > b, before, { timeout: 10000 });
  }
}
// Counts the dashboard's fetches of the live lists (each refresh reads
// the queued, offered and active chats).
async function countListLoads(dash) {
  await dash.evaluate(() => {
    window.__listLoads = 0;
    const real = window.fetch;
    window.fetch = (...args) => {
      const p = real(...args);
      if (String(args[0]).includes('status=active')) p.finally(() => queueMicrotask(() => { window.__listLoads++; }));
      return p;
    };
  });
}

let ann = null;
let shops = [];

test('a chat being offered counts as waiting: tiles, teams table and queue table agree', async () => {
  const dash = await page();
  await dashboardLogin(dash, stack, 'boss');
  await dash.locator('#tiles-h').waitFor();

  // Ann (capacity 1) online: the first chat is offered to her; the second waits.
  ann = await page(1360, 820);
  await agentLogin(ann, stack, 'ann');
  await goOnline(ann);
  for (const text of ['First customer: where is my order?', 'Second customer: can I pay by invoice?']) {
    const shop = await page(1200, 800);
    await customerWrites(shop, stack, text);
    await shop.locator('exceed-chat >> .msg.mine[data-seq]').waitFor();
    shops.push(shop);
  }
  await ann.locator('.offer:has-text("First customer")').waitFor();
  await dash.locator('#queue tr:has-text("being offered")').waitFor();
  await dash.locator('#queue tr:has-text("waiting")').waitFor();
  await dash.locator('.tile[data-key="queue_length"][data-value="2"]').waitFor();
  assert.match(await dash.locator('.tile[data-key="queue_length"] .w').textContent(), /1 being offered/);
  await dash.locator('#teams tr[data-team="support"] td:nth-of-type(1):text-is("2")').waitFor();
  assert.equal(await dash.locator('#queue tr').count(), 2);
  await assertAccessible(dash, 'dashboard live, a chat being offered');
  // Ann takes it now (an offer left to expire would not come back to her soon).
  await ann.locator('.offer button:has-text("Accept")').click();
  await ann.locator('.msg.customer:has-text("First customer")').waitFor();
  await dash.locator('.tile[data-key="queue_length"][data-value="1"]').waitFor();
  await dash.context().close();
});

test('axe: no serious or critical violation at login and live, at 1280 and 320 px; nothing scrolls sideways', async () => {
  for (const width of [1280, 320]) {
    const dash = await page(width, 900);
    await dash.goto(stack.base + '/dashboard/');
    await dash.locator('#login-form').waitFor();
    await assertAccessible(dash, `dashboard login ${width}px`);
    await dashboardLogin(dash, stack, 'boss');
    await waitForFocus(dash, dash.locator('#tiles-h'), 'the top of the dashboard after signing in');
    await dash.locator('#queue tr').first().waitFor();
    await dash.locator('#agents tr').first().waitFor();
    await assertAccessible(dash, `dashboard live ${width}px`);
    await assertNoSidewaysScroll(dash, `dashboard live ${width}px`);
    await screenshot(dash, `a11y-dashboard-live-${width}`);
    await dash.context().close();
  }
});

test('the tables refresh in place: focus on "Assign…" stays, and no live region speaks while nothing happens', async () => {
  const dash = await page();
  await dashboardLogin(dash, stack, 'boss');
  await countListLoads(dash);
  const assign = dash.locator('#queue tr:has-text("waiting") button:has-text("Assign")');
  await assign.waitFor();
  await assign.focus();
  await dash.evaluate(() => {
    window.__spoken = [];
    const live = document.querySelectorAll('[role=status], [role=alert], [role=log], [aria-live]:not([aria-live=off])');
    for (const region of live) {
      new MutationObserver(() => window.__spoken.push(region.id || region.className || region.tagName))
        .observe(region, { childList: true, characterData: true, subtree: true });
    }
  });
  await refreshes(dash, 2);
  await assertFocus(dash, assign, '"Assign…" after two refreshes of the lists');
  assert.deepEqual(await dash.evaluate(() => window.__spoken), [], 'no live region changed while nothing happened');
  assert.equal(await dash.locator('#refreshed').getAttribute('role'), null, '"Updated …" is not a status region');
  await dash.context().close();
});

test('keyboard: force-assign picks the chat and the agent by name', async () => {
  // Ann is full with the first chat; Bob comes online, and the supervisor
  // gives him the second chat, whether it waits or is being offered to him.
  const bob = await page(1360, 820);
  await agentLogin(bob, stack, 'bob');
  await goOnline(bob);
  const dash = await page();
  await dashboardLogin(dash, stack, 'boss');
  // Ann has the first chat: the queue lists only the second.
  await dash.locator('#active tr:has-text("Ann Agent")').waitFor();
  assert.equal(await dash.locator('#queue tr').count(), 1);
  const assign = dash.locator('#queue tr button:has-text("Assign")');
  await assign.waitFor();
  await assign.focus();
  await dash.keyboard.press('Enter');
  await waitForFocus(dash, dash.locator('#assign-picker .picker-search'), 'the agent search');
  assert.match(await dash.locator('#assign-conv option:checked').textContent(), /Dana · support · waiting since/, 'the chat is chosen, by name');
  const bobRadio = dash.locator(`#assign-picker input[name=assign-agent][value="${stack.users.bob.id}"]:not([disabled])`);
  await bobRadio.waitFor();
  await dash.keyboard.type('bob');
  await dash.locator('#assign-picker .picker-count:has-text("1 match")').waitFor();
  await dash.keyboard.press('Tab');
  await assertFocus(dash, bobRadio, 'Bob in the list');
  await dash.keyboard.press('Space');
  await tabToAssign(dash);
  await dash.keyboard.press('Enter');
  await dash.locator('#assign-result:has-text("is now with Bob Builder")').waitFor();
  await bob.locator('.msg.customer:has-text("Second customer")').waitFor();
  await assertAccessible(dash, 'dashboard after force-assign');
  await dash.context().close();
});

async function tabToAssign(dash) {
  for (let i = 0; i < 5; i++) {
    await dash.keyboard.press('Tab');
    if (await dash.evaluate(() => document.activeElement && document.activeElement.id === 'assign-go')) return;
  }
  assert.fail('Tab never reached Assign');
}

test('axe in the review list and the transcript dialog at 1280 and 320 px; the dialog gives focus back', async () => {
  // Ann answers and resolves her chat; the customer says it only met what they needed.
  await ann.fill('#input', 'Your order left this morning.');
  await ann.press('#input', 'Enter');
  const shop = shops[0];
  await shop.locator('exceed-chat >> .msg.theirs:has-text("left this morning")').waitFor();
  await ann.click('#resolve');
  await shop.locator('exceed-chat >> .csat-form').waitFor();
  await shop.locator('exceed-chat >> .stars label').nth(2).click();
  await shop.locator('exceed-chat >> .expect label:has-text("Met")').click();
  await shop.locator('exceed-chat >> .csat-form button[type=submit]').click();
  await shop.locator('exceed-chat >> .csat .thanks').waitFor();

  for (const width of [1280, 320]) {
    const dash = await page(width, 900);
    await dashboardLogin(dash, stack, 'boss');
    const item = dash.locator('#review li.review-item').first();
    await item.waitFor({ timeout: 15000 });
    await assertAccessible(dash, `dashboard review ${width}px`);
    const open = item.locator('button:has-text("Transcript")');
    await open.focus();
    await dash.keyboard.press('Enter');
    await dash.locator('#transcript[open] .tmsg.agent:has-text("left this morning")').waitFor();
    await assertFocus(dash, dash.locator('#transcript-title'), 'the transcript title');
    await assertAccessible(dash, `dashboard transcript ${width}px`);
    await assertNoSidewaysScroll(dash, `dashboard transcript ${width}px`);
    await screenshot(dash, `a11y-dashboard-transcript-${width}`);
    await dash.keyboard.press('Escape');
    await dash.locator('#transcript:not([open])').waitFor({ state: 'attached' });
    await assertFocus(dash, open, 'Transcript after the dialog closed');
    await dash.context().close();
  }
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR|favicon/.test(e)), []);
});
