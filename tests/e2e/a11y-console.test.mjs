// The agent console for every agent (WCAG 2.1 AA) and an agent who never
// misses a customer: axe-core finds no serious or critical violation at
// login, idle, with an offer, in a chat, resolved, in the transfer dialog
// and on the Tickets tab, at 1280 px and 320 px; the whole day works from
// the keyboard with focus where the next step is; an offer is spoken once
// and the transcript and chat list are updated in place; an agent on the
// Tickets tab sees the offer (badge and strip) and gets a desktop
// notification once they allowed it, remembered per agent; transfer picks
// a person by name; the console reflows at 200% zoom and 320 px.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, customerWrites, agentLogin, goOnline, watchPage, screenshot, PASSWORD } from './lib/harness.mjs';
import { assertAccessible, assertFocus, waitForFocus, focused, assertNoSidewaysScroll } from './lib/a11y.mjs';

const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
    ['bob', 'agent', 'Bob Builder', ['--teams', 'support']],
  ],
});
const { stack, errors } = suite;

async function newPage(width = 1280, height = 800, extra = {}) {
  const ctx = await suite.browser.newContext({ viewport: { width, height }, ...extra });
  const page = await ctx.newPage();
  watchPage(page, `console ${width}`, errors);
  return page;
}

async function customer(text) {
  const shop = await newPage(1200, 800);
  await customerWrites(shop, stack, text);
  return shop;
}

// Presses Tab (or Shift+Tab) until the locator has focus; fails after `max`.
async function tabTo(page, locator, what, { shift = false, max = 25 } = {}) {
  const handle = await locator.elementHandle();
  for (let i = 0; i < max; i++) {
    if (await handle.evaluate((e) => e === document.activeElement)) return;
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`Tab never reached ${what}; focus is on ${JSON.stringify(await focused(page))}`);
}

async function setStatus(page, value) {
  await page.selectOption('#status', value);
  await page.waitForFunction((v) => document.querySelector('#status').value === v, value);
}

test('axe: no serious or critical violation at login, idle, offer, chat, resolved, transfer and tickets, at 1280 and 320 px', async () => {
  for (const width of [1280, 320]) {
    const agent = await newPage(width, 800);
    await agent.goto(stack.base + '/console/');
    await agent.locator('#login-form').waitFor();
    await assertAccessible(agent, `console login ${width}px`);
    await agentLogin(agent, stack, 'ann');
    await goOnline(agent);
    await agent.locator('#no-offers:has-text("You are online")').waitFor();
    await assertAccessible(agent, `console idle ${width}px`);
    await assertNoSidewaysScroll(agent, `console idle ${width}px`);

    const shop = await customer(`Hello from a ${width} px test, my parcel is late.`);
    const offer = agent.locator('.offer');
    await offer.waitFor();
    await assertAccessible(agent, `console offer ${width}px`);
    await assertNoSidewaysScroll(agent, `console offer ${width}px`);
    await offer.locator('button:has-text("Accept")').click();
    await agent.locator('.msg.customer').first().waitFor();
    await agent.fill('#input', 'Hello! Let me look into it.');
    await agent.press('#input', 'Enter');
    await shop.locator('exceed-chat >> .msg.theirs').waitFor();
    await agent.locator('.msg.agent[data-state="read"]').waitFor();
    await assertAccessible(agent, `console chat ${width}px`);
    await assertNoSidewaysScroll(agent, `console chat ${width}px`);
    await screenshot(agent, `a11y-console-chat-${width}`);

    await agent.click('#transfer');
    await agent.locator('#transfer-dialog[open] .picker-item').first().waitFor();
    await assertAccessible(agent, `console transfer dialog ${width}px`);
    await agent.click('#transfer-cancel');

    await agent.click('#resolve');
    await agent.locator('#chat-banner:has-text("resolved")').waitFor();
    await assertAccessible(agent, `console resolved ${width}px`);

    await agent.click('#tab-tickets');
    await agent.locator('#tk-items li, #tk-empty:not([hidden])').first().waitFor();
    await assertAccessible(agent, `console tickets ${width}px`);
    await assertNoSidewaysScroll(agent, `console tickets ${width}px`);
    await setStatus(agent, 'offline');
    await agent.context().close();
    await shop.context().close();
  }
});

test('keyboard only: log in, go online, accept, reply, resolve, with focus after each step', async () => {
  const agent = await newPage();
  await agent.goto(stack.base + '/console/');
  const user = agent.locator('#login-form input[name=username]');
  await assertFocus(agent, user, 'the username field');
  await agent.keyboard.type('ann');
  await agent.keyboard.press('Tab');
  await agent.keyboard.type(PASSWORD);
  await agent.keyboard.press('Enter');
  await waitForFocus(agent, agent.locator('#status'), 'the status after signing in');
  await agent.locator('#conn[data-state="online"]').waitFor();

  // Online from the keyboard (Offline is the start): the list says so, and no longer asks for it.
  await agent.waitForFunction(() => document.querySelector('#status').value === 'offline');
  // The list's note follows the hello's answer, which may come after the
  // connection dot turns green (a slow server, a sanitizer build): awaited.
  await agent.locator('#no-offers:has-text("Set your status to Online")').waitFor();
  await agent.keyboard.press('ArrowUp');
  await agent.keyboard.press('ArrowUp');
  await agent.locator('#no-offers:has-text("You are online")').waitFor();
  assert.doesNotMatch(await agent.locator('#no-offers').textContent(), /Set your status to Online/);
  await assertFocus(agent, agent.locator('#status'), 'the status after changing it');

  const shop = await customer('Keyboard customer: where is my order #7001?');
  const accept = agent.locator('.offer button:has-text("Accept")');
  await accept.waitFor();
  await assertFocus(agent, agent.locator('#status'), 'the status while an offer arrives (an offer never takes focus)');
  await tabTo(agent, accept, 'Accept');
  await agent.keyboard.press('Enter');
  await waitForFocus(agent, agent.locator('#input'), 'the reply box after accepting');
  await agent.locator('.msg.customer:has-text("order #7001")').waitFor();

  await agent.keyboard.type('It ships tomorrow morning.');
  await agent.keyboard.press('Enter');
  await agent.locator('.msg.agent[data-seq]:has-text("ships tomorrow")').waitFor();
  await assertFocus(agent, agent.locator('#input'), 'the reply box after sending');
  await shop.locator('exceed-chat >> .msg.theirs:has-text("ships tomorrow")').waitFor();

  await tabTo(agent, agent.locator('#resolve'), 'Resolve', { shift: true });
  await agent.keyboard.press('Enter');
  await waitForFocus(agent, agent.locator('#chat-banner'), 'the note that the chat is resolved');
  assert.match(await agent.locator('#chat-banner').textContent(), /resolved/);
  await setStatus(agent, 'offline');
  await agent.context().close();
  await shop.context().close();
});

test('an offer is spoken once, and new messages are added in place: focus on the chat list stays, the log is not rebuilt', async () => {
  const agent = await newPage();
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  // Nothing that changes by itself every second is a live region.
  assert.equal(await agent.locator('#incoming [aria-live], #offers[aria-live]').count(), 0);
  await agent.evaluate(() => {
    window.__announced = [];
    new MutationObserver(() => window.__announced.push(document.querySelector('#announcer').textContent))
      .observe(document.querySelector('#announcer'), { childList: true, characterData: true, subtree: true });
  });
  const shop = await customer('Live region customer here.');
  const left = agent.locator('.offer .left');
  await left.waitFor();
  const first = await left.textContent();
  // The countdown ticks (outside any live region) while the announcement is made once.
  await agent.waitForFunction((t) => document.querySelector('.offer .left').textContent !== t, first);
  const announced = await agent.evaluate(() => window.__announced);
  assert.equal(announced.length, 1, 'one announcement: ' + JSON.stringify(announced));
  assert.match(announced[0], /New chat offer from Dana: “Live region customer here\.”\. \d+ seconds to accept\./);

  await agent.locator('.offer button:has-text("Accept")').click();
  await agent.locator('.msg.customer:has-text("Live region customer")').waitFor();
  const item = agent.locator('#chats li button').first();
  await item.focus();
  await agent.evaluate(() => {
    const log = document.querySelector('#log');
    window.__log = { removed: 0, added: [], same: log };
    new MutationObserver((records) => {
      for (const r of records) {
        window.__log.removed += [...r.removedNodes].filter((n) => n.nodeType === 1).length;
        for (const n of r.addedNodes) if (n.nodeType === 1 && n.classList.contains('msg')) window.__log.added.push(n.textContent);
      }
    }).observe(log, { childList: true });
  });
  const input = shop.locator('exceed-chat >> #xc-input');
  await input.fill('A second message, please keep your place.');
  await input.press('Enter');
  await agent.locator('.msg.customer:has-text("keep your place")').waitFor();
  await agent.locator('#chats li button .last:has-text("keep your place")').waitFor();
  await assertFocus(agent, item, 'the chat in the list, as a message came in');
  const log = await agent.evaluate(() => ({ ...window.__log, same: window.__log.same === document.querySelector('#log') }));
  assert.equal(log.same, true, 'the same log element');
  assert.equal(log.removed, 0, 'nothing removed from the log');
  assert.equal(log.added.length, 1, 'one message added: ' + JSON.stringify(log.added));
  await agent.click('#resolve');
  await setStatus(agent, 'offline');
  await agent.context().close();
  await shop.context().close();
});

test('on the Tickets tab an agent sees the offer (badge and strip) and gets a desktop notification, remembered per agent', async () => {
  const ctx = await suite.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.grantPermissions(['notifications'], { origin: stack.base });
  // Records each notification the page shows, through the real API.
  await ctx.addInitScript(() => {
    const Real = window.Notification;
    window.__notifications = [];
    class Recorded extends Real {
      constructor(title, options = {}) {
        super(title, options);
        window.__notifications.push({ title, body: options.body, tag: options.tag });
      }
    }
    window.Notification = Recorded;
  });
  const agent = await ctx.newPage();
  watchPage(agent, 'console notify', errors);
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  assert.equal(await agent.evaluate(() => Notification.permission), 'granted');
  await agent.check('#notify');
  await agent.locator('.toast:has-text("desktop notification")').waitFor();

  await agent.click('#tab-tickets');
  await agent.locator('#tickets-view').waitFor();
  const shop = await customer('Is anyone there? My order #8802 is wrong.');
  // The badge on Chats, its name for screen readers, and the offer itself, here on Tickets.
  await agent.locator('#tab-chats-badge:not([hidden])').waitFor();
  assert.equal(await agent.locator('#tab-chats-badge').textContent(), '1');
  assert.match(await agent.locator('#tab-chats').getAttribute('aria-label'), /1 chat offer waiting/);
  const offer = agent.locator('#incoming .offer');
  await offer.waitFor();
  assert.equal(await agent.locator('#tickets-view').isVisible(), true, 'still on the Tickets tab');
  await agent.waitForFunction(() => window.__notifications.length > 0);
  const [n] = await agent.evaluate(() => window.__notifications);
  assert.match(n.title, /New chat from Dana/);
  assert.match(n.body, /order #8802/);
  await screenshot(agent, 'a11y-console-offer-on-tickets');

  // Accepting from the Tickets tab opens the chat, with focus in the reply box.
  await offer.locator('button:has-text("Accept")').click();
  await waitForFocus(agent, agent.locator('#input'), 'the reply box');
  assert.equal(await agent.locator('#chats-view').isVisible(), true);
  await agent.locator('#tab-chats-badge[hidden]').waitFor({ state: 'attached' });
  await agent.click('#resolve');

  // Remembered for Ann on this browser (a reload keeps it); not for Bob.
  await agent.reload();
  await agent.locator('#conn[data-state="online"]').waitFor();
  assert.equal(await agent.isChecked('#notify'), true, 'Ann keeps desktop alerts');
  await setStatus(agent, 'offline');
  await agent.click('#logout');
  await agent.locator('#login-form input[name=username]').waitFor();
  await agentLogin(agent, stack, 'bob');
  assert.equal(await agent.isChecked('#notify'), false, 'Bob has his own choice');
  await ctx.close();
  await shop.context().close();
});

test('transfer picks an agent by name, with a search; focus comes back to the note that the chat went', async () => {
  const bob = await newPage();
  await agentLogin(bob, stack, 'bob');
  await goOnline(bob);
  await setStatus(bob, 'away'); // away: gets no offer, yet is listed
  const agent = await newPage();
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  const shop = await customer('Transfer me to someone who knows invoices.');
  await agent.locator('.offer button:has-text("Accept")').click();
  await agent.locator('.msg.customer:has-text("invoices")').waitFor();

  await agent.focus('#transfer');
  await agent.keyboard.press('Enter');
  const search = agent.locator('#transfer-dialog .picker-search');
  await waitForFocus(agent, search, 'the search of the transfer dialog');
  await agent.locator('#transfer-dialog .picker-item:has-text("Bob Builder")').waitFor();
  // Bob is away: listed, but cannot be picked.
  assert.equal(await agent.locator('#transfer-dialog .picker-item:has-text("Bob Builder") input').isDisabled(), true);
  assert.equal(await agent.locator('#transfer-dialog .picker-item:has-text("Ann Agent")').count(), 0, 'not oneself');
  // Escape closes the dialog and gives focus back to Transfer; opened again, Bob is online.
  await agent.keyboard.press('Escape');
  await waitForFocus(agent, agent.locator('#transfer'), 'Transfer after closing the dialog');
  await setStatus(bob, 'online');
  await agent.keyboard.press('Enter');
  await waitForFocus(agent, search, 'the search of the transfer dialog');
  await agent.locator('#transfer-dialog .picker-item:has-text("Bob Builder") input:not([disabled])').waitFor();
  await agent.keyboard.type('bob');
  await agent.locator('#transfer-dialog .picker-count:has-text("1 match")').waitFor();
  assert.equal(await agent.locator('#transfer-dialog .picker-item:visible').count(), 1);
  await agent.keyboard.press('Tab');
  await assertFocus(agent, agent.locator('#transfer-dialog .picker-item:has-text("Bob Builder") input'), 'Bob in the list');
  await agent.keyboard.press('Space');
  await agent.click('#transfer-go');
  await waitForFocus(agent, agent.locator('#chat-banner'), 'the note that the chat was transferred');
  assert.match(await agent.locator('#chat-banner').textContent(), /transferred to Bob Builder/);
  await bob.locator('.msg.customer:has-text("invoices")').waitFor();
  for (const p of [agent, bob]) await setStatus(p, 'offline');
  for (const p of [agent, bob, shop]) await p.context().close();
});

test('at 200% zoom and at 320 px the console reflows: transcript and reply box together, messages clear of the controls', async () => {
  for (const [width, height] of [[640, 400], [320, 640]]) {
    const agent = await newPage(width, height, { deviceScaleFactor: 2 });
    await agentLogin(agent, stack, 'ann');
    await goOnline(agent);
    const shop = await customer(`Zoom customer at ${width} px.`);
    await agent.locator('.offer button:has-text("Accept")').click();
    await waitForFocus(agent, agent.locator('#input'), 'the reply box');
    await agent.locator('.msg.customer:has-text("Zoom customer")').waitFor();
    await assertNoSidewaysScroll(agent, `console ${width}x${height}`);
    // With focus in the reply box, the transcript shows above it on the same screen.
    const box = await agent.evaluate(() => {
      const log = document.querySelector('#log').getBoundingClientRect();
      const input = document.querySelector('#input').getBoundingClientRect();
      return { logH: log.height, logTop: log.top, inputBottom: input.bottom, vh: innerHeight };
    });
    assert.ok(box.logH >= 100, `the transcript is ${box.logH} px tall at ${width}x${height}`);
    assert.ok(box.inputBottom <= box.vh + 1 && box.logTop >= -1, `transcript and reply box on one screen: ${JSON.stringify(box)}`);
    // Messages sit in their own strip, not over the top bar's buttons.
    await agent.selectOption('#status', 'away');
    const toast = agent.locator('.toast').last();
    await toast.waitFor();
    const [t, bar] = [await toast.boundingBox(), await agent.locator('.topbar').boundingBox()];
    assert.ok(t.y >= bar.y + bar.height - 1, `the message is below the top bar: ${JSON.stringify({ t, bar })}`);
    await assertAccessible(agent, `console chat ${width}x${height}`);
    await screenshot(agent, `a11y-console-${width}x${height}`);
    await agent.click('#resolve');
    await setStatus(agent, 'offline');
    await agent.context().close();
    await shop.context().close();
  }
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR|favicon/.test(e)), []);
});
