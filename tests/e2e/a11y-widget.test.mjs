// The customer widget for every customer (WCAG 2.1 AA): axe-core finds no
// serious or critical violation in any state of a real flow (closed, open,
// offline, chatting, CSAT, thanks) at 1280 px and at 320 px; the whole flow
// works from the keyboard with focus where the customer needs it after each
// step; on a full-window panel focus stays inside; the log speaks each
// message once; the widget speaks its own language; a 200% zoom keeps the
// log readable with the CSAT open; customers are told the truth about who
// is online and never see an internal id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, agentLogin, goOnline, watchPage, screenshot, PASSWORD } from './lib/harness.mjs';
import { assertAccessible, assertFocus, waitForFocus, focused, assertNoSidewaysScroll } from './lib/a11y.mjs';

const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
    ['boss', 'supervisor', 'Sam Supervisor'],
  ],
});
const { stack, errors } = suite;

const W = (page) => ({
  launcher: page.locator('exceed-chat >> .launcher'),
  panel: page.locator('exceed-chat >> .panel'),
  input: page.locator('exceed-chat >> #xc-input'),
  sub: page.locator('exceed-chat >> .sub'),
  intro: page.locator('exceed-chat >> .intro-text'),
  log: page.locator('exceed-chat >> .log'),
});

// An agent console, signed in and online, that accepts the next offer and
// can answer and resolve.
async function onlineAgent() {
  const page = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  watchPage(page, 'console', errors);
  await agentLogin(page, stack, 'ann');
  await goOnline(page);
  return {
    page,
    async accept() {
      const offer = page.locator('.offer').first();
      await offer.waitFor();
      await offer.locator('button:has-text("Accept")').click();
      await page.locator('#composer').waitFor();
    },
    async reply(text) {
      await page.fill('#input', text);
      await page.press('#input', 'Enter');
      await page.locator(`.msg.agent[data-seq]:has-text(${JSON.stringify(text)})`).waitFor();
    },
    async resolve() {
      await page.click('#resolve');
      await page.locator('#chat-banner:has-text("resolved")').waitFor();
    },
    async offline() {
      await page.selectOption('#status', 'offline');
      await page.waitForFunction(() => document.querySelector('#status').value === 'offline');
    },
  };
}

// A customer on the demo shop: the page, the widget's parts, and the
// browser context to close at the end.
async function shopAt(label, options) {
  const ctx = await suite.browser.newContext(options);
  const shop = await ctx.newPage();
  watchPage(shop, label, errors);
  await shop.goto(stack.base + '/demo/shop.html');
  return { ctx, shop, w: W(shop) };
}

async function conversation(id) {
  const boss = await stack.login('boss');
  return stack.get('/api/v1/conversations/' + encodeURIComponent(id), boss.token);
}

// Presses a key in the widget and asserts where focus went.
async function press(page, key, selector, what) {
  await page.keyboard.press(key);
  await assertFocus(page, page.locator('exceed-chat >> ' + selector), what);
}

// Tabs from the top of the shop page until the launcher has focus.
async function tabToLauncher(page) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && f.inWidget && /launcher/.test(f.cls)) return;
  }
  assert.fail('Tab never reached the chat launcher');
}

test('axe: no serious or critical violation while nobody is online (closed, open, leave a message) at 1280 and 320 px', async () => {
  for (const width of [1280, 320]) {
    const { ctx, shop, w } = await shopAt(`shop ${width}`, { viewport: { width, height: 800 } });
    await w.launcher.waitFor();
    await assertAccessible(shop, `widget closed ${width}px`);
    await w.launcher.click();
    await w.input.waitFor();
    // Nobody of the team is online: the widget says so before the first word, and promises no time.
    await shop.locator('exceed-chat[data-availability="nobody"]').waitFor();
    assert.match(await w.intro.textContent(), /Nobody from our team is online right now/);
    assert.doesNotMatch(await w.panel.innerText(), /within minutes/);
    await assertAccessible(shop, `widget open, nobody online ${width}px`);
    await assertNoSidewaysScroll(shop, `widget open ${width}px`);

    await w.input.fill('My parcel #5521 never arrived.');
    await w.input.press('Enter');
    await shop.locator('exceed-chat >> .leave-form').waitFor();
    await shop.locator('exceed-chat >> .msg.system').waitFor();
    // Said once, and no internal id: not the ticket's, not the conversation's.
    const { ticketId, conversationId } = await shop.evaluate(() => window.__exceedWidget.state);
    const text = await w.panel.innerText();
    assert.ok(!text.includes(ticketId) && !text.includes(conversationId), 'no internal id shown to the customer: ' + text);
    assert.equal((text.match(/Nobody from our team is online/g) || []).length, 1, 'said once: ' + text);
    await assertAccessible(shop, `widget leave a message ${width}px`);
    await shop.locator('exceed-chat >> #xc-leave-email').fill('dana@example.com');
    await shop.locator('exceed-chat >> .leave-form button[type=submit]').click();
    await waitForFocus(shop, shop.locator('exceed-chat >> .leave-done .thanks'), 'the thanks for the message');
    await assertAccessible(shop, `widget message left ${width}px`);
    await screenshot(shop, `a11y-widget-offline-${width}`);
    await ctx.close();
  }
});

test('axe: no serious or critical violation while chatting, in the CSAT and after it, at 1280 and 320 px', async () => {
  const agent = await onlineAgent();
  for (const width of [1280, 320]) {
    const { ctx, shop, w } = await shopAt(`shop ${width}`, { viewport: { width, height: 800 } });
    await w.launcher.click();
    await shop.locator('exceed-chat[data-availability="online"]').waitFor();
    assert.match(await w.intro.textContent(), /Someone from our team is online/);
    await assertAccessible(shop, `widget open, someone online ${width}px`);
    await w.input.fill('Hello, my order #4411 is late.');
    await w.input.press('Enter');
    await shop.locator('exceed-chat >> .msg.mine[data-seq]').waitFor();
    await assertAccessible(shop, `widget queued ${width}px`);
    await agent.accept();
    await agent.reply('Hi! It left our warehouse this morning.');
    await shop.locator('exceed-chat >> .msg.theirs:has-text("warehouse")').waitFor();
    await shop.locator('exceed-chat >> .msg.mine[data-state="read"]').waitFor();
    await assertAccessible(shop, `widget chatting ${width}px`);
    await assertNoSidewaysScroll(shop, `widget chatting ${width}px`);
    await agent.resolve();
    await shop.locator('exceed-chat >> .csat-form').waitFor();
    await assertAccessible(shop, `widget CSAT ${width}px`);
    await shop.locator('exceed-chat >> .stars label').nth(3).click();
    await shop.locator('exceed-chat >> .csat-saved:has-text("Rating saved")').waitFor();
    await assertAccessible(shop, `widget CSAT rated ${width}px`);
    await shop.locator('exceed-chat >> .csat-form button[type=submit]').click();
    await shop.locator('exceed-chat >> .csat .thanks').waitFor();
    await assertAccessible(shop, `widget thanks ${width}px`);
    await screenshot(shop, `a11y-widget-thanks-${width}`);
    await ctx.close();
  }
  await agent.offline();
  await agent.page.context().close();
});

test('axe: the start page that links the three clients, at 1280 and 320 px', async () => {
  for (const width of [1280, 320]) {
    const ctx = await suite.browser.newContext({ viewport: { width, height: 800 } });
    const page = await ctx.newPage();
    watchPage(page, `start page ${width}`, errors);
    await page.goto(stack.base + '/');
    await page.locator('#embed:not(:empty)').waitFor();
    await assertAccessible(page, `start page ${width}px`);
    await assertNoSidewaysScroll(page, `start page ${width}px`);
    await ctx.close();
  }
});

test('keyboard only: open, write, send, the end of the chat, the CSAT and the thanks, with focus after each step', async () => {
  const agent = await onlineAgent();
  const { ctx, shop, w } = await shopAt('shop keyboard', { viewport: { width: 1280, height: 800 } });
  await w.launcher.waitFor();

  await tabToLauncher(shop);
  await shop.keyboard.press('Enter');
  await assertFocus(shop, w.input, 'the message box after opening');
  assert.equal(await w.panel.getAttribute('aria-modal'), 'false', 'a corner panel on a wide screen is not modal');

  await shop.keyboard.type('Can I change my delivery address?');
  await shop.keyboard.press('Enter');
  await shop.locator('exceed-chat >> .msg.mine[data-seq]:has-text("delivery address")').waitFor();
  await assertFocus(shop, w.input, 'the message box after sending');

  await agent.accept();
  await agent.reply('Yes: tell me the new address.');
  await shop.locator('exceed-chat >> .msg.theirs:has-text("new address")').waitFor();
  await assertFocus(shop, w.input, 'the message box while the agent answers');
  await shop.keyboard.type('12 Elm Street, please.');
  await shop.keyboard.press('Enter');
  await shop.locator('exceed-chat >> .msg.mine[data-seq]:has-text("Elm Street")').waitFor();

  // The agent ends the chat: the message box goes, focus comes to the first CSAT question.
  await agent.resolve();
  await waitForFocus(shop, shop.locator('exceed-chat >> #xc-solved-title'), '"Did this solve it?" after the chat ended');
  assert.equal(await shop.locator('exceed-chat >> .ended-note').isVisible(), true, 'the panel says the chat has ended');

  await press(shop, 'Tab', '.solved-yes', 'Yes');
  await shop.keyboard.press('Enter');
  await waitForFocus(shop, shop.locator('exceed-chat >> .solved-noted'), 'the answer noted');

  // Stars: arrow keys move through them without sending each; leaving the stars sends the rating.
  await press(shop, 'Tab', 'input[name=rating][value="1"]', 'the first star');
  for (let i = 0; i < 3; i++) await shop.keyboard.press('ArrowRight');
  await assertFocus(shop, shop.locator('exceed-chat >> input[name=rating][value="4"]'), 'the fourth star');
  assert.match(await shop.locator('exceed-chat >> .rating-word').textContent(), /4 of 5 · Good/);
  await shop.keyboard.press('Tab');
  await shop.locator('exceed-chat >> .csat-saved:has-text("Rating saved")').waitFor();
  await assertFocus(shop, shop.locator('exceed-chat >> input[name=expectation][value="below"]'), 'the first answer of "Did we exceed…"');
  await press(shop, 'ArrowRight', 'input[name=expectation][value="met"]', '"Met"');
  await press(shop, 'Tab', 'textarea[name=comment]', 'the comment');
  await shop.keyboard.type('Quick and clear.');
  await press(shop, 'Tab', '.csat-form button[type=submit]', 'Send feedback');
  await shop.keyboard.press('Enter');
  await waitForFocus(shop, shop.locator('exceed-chat >> .csat .thanks'), 'the thanks after sending');
  await press(shop, 'Tab', '.newchat', 'Start a new chat');

  const conv = await conversation(await shop.evaluate(() => window.__exceedWidget.state.conversationId));
  assert.equal(conv.csat.rating, 4, 'the keyboard rating is the one the customer settled on');
  assert.equal(conv.csat.expectation, 'met');
  assert.equal(conv.csat.comment, 'Quick and clear.');

  // A new chat starts in the message box; Escape closes and gives focus back to the launcher.
  await shop.keyboard.press('Enter');
  await assertFocus(shop, w.input, 'the message box of a new chat');
  await shop.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  await assertFocus(shop, w.launcher, 'the launcher after closing');
  await agent.offline();
  await agent.page.context().close();
  await ctx.close();
});

test('on a phone the panel is a modal dialog: Tab and Shift+Tab stay inside it', async () => {
  const { ctx, shop, w } = await shopAt('shop phone', { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  await tabToLauncher(shop);
  await shop.keyboard.press('Enter');
  await assertFocus(shop, w.input, 'the message box');
  assert.equal(await w.panel.getAttribute('aria-modal'), 'true');
  const box = await w.panel.boundingBox();
  assert.ok(box.x === 0 && box.width === 320, 'the panel covers the window: ' + JSON.stringify(box));
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < 8; i++) {
      await shop.keyboard.press(key);
      const f = await focused(shop);
      assert.ok(f && f.inWidget, `${key} ${i + 1}: focus left the chat for ${JSON.stringify(f)}`);
    }
  }
  await shop.keyboard.press('Escape');
  await assertFocus(shop, w.launcher, 'the launcher after closing');
  await ctx.close();
});

test('the log speaks each message once: a sent message is kept in place, "Sent" to "Read" is not spoken', async () => {
  const agent = await onlineAgent();
  const { ctx, shop, w } = await shopAt('shop log', { viewport: { width: 1280, height: 800 } });
  await w.launcher.click();
  await w.input.fill('First question');
  await w.input.press('Enter');
  await agent.accept();
  await shop.locator('exceed-chat >> .msg.mine[data-state="read"]').waitFor();
  assert.equal(await w.log.getAttribute('aria-relevant'), 'additions');
  // From here on, every change to the log is recorded.
  await shop.evaluate(() => {
    const log = document.querySelector('exceed-chat').shadowRoot.querySelector('.log');
    window.__logChanges = { added: [], removed: 0, spokenText: 0 };
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.removedNodes) if (n.nodeType === 1 && n.classList.contains('msg')) window.__logChanges.removed++;
        for (const n of r.addedNodes) {
          if (n.nodeType === 1 && n.classList.contains('msg')) window.__logChanges.added.push(n.textContent);
          // Text put into a message already shown, outside what is hidden from screen readers.
          else if (r.target !== log && !r.target.closest?.('[aria-hidden="true"]') && !(r.target.parentElement && r.target.parentElement.closest('[aria-hidden="true"]'))) window.__logChanges.spokenText++;
        }
      }
    }).observe(log, { childList: true, subtree: true, characterData: true });
  });
  await w.input.fill('Second question');
  await w.input.press('Enter');
  await shop.locator('exceed-chat >> .msg.mine[data-seq]:has-text("Second question")').waitFor();
  await agent.reply('An answer to both.');
  await shop.locator('exceed-chat >> .msg.theirs:has-text("answer to both")').waitFor();
  await shop.locator('exceed-chat >> .msg.mine[data-state="read"]:has-text("Second question")').waitFor();
  const changes = await shop.evaluate(() => window.__logChanges);
  assert.equal(changes.removed, 0, 'no message removed and added again');
  assert.equal(changes.added.length, 2, 'two messages added, once each: ' + JSON.stringify(changes.added));
  assert.equal(changes.spokenText, 0, 'no spoken text changed inside the log');
  await agent.resolve();
  await agent.offline();
  await agent.page.context().close();
  await ctx.close();
});

test('the widget speaks its own language, not the host page\'s', async () => {
  const ctx = await suite.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watchPage(page, 'french shop', errors);
  for (const [attrs, want] of [['', 'en'], [' data-lang="en-GB"', 'en-GB'], [' data-lang="xx"', 'en']]) {
    await page.route(stack.base + '/demo/fr.html', (route) => route.fulfill({ contentType: 'text/html',
      body: `<!doctype html><html lang="fr"><head><title>Boutique</title></head><body><main><h1>Bonjour</h1></main>` +
        `<script src="/widget.js"${attrs} async></script></body></html>` }));
    await page.goto(stack.base + '/demo/fr.html');
    await page.locator('exceed-chat >> .launcher').waitFor();
    assert.equal(await page.locator('exceed-chat').getAttribute('lang'), want, `lang for${attrs || ' no data-lang'}`);
    assert.equal(await page.locator('exceed-chat >> .panel').getAttribute('lang'), want);
    await page.unroute(stack.base + '/demo/fr.html');
  }
  await ctx.close();
});

test('at 200% zoom the log keeps a readable height with the CSAT open, and nothing scrolls sideways', async () => {
  const agent = await onlineAgent();
  // 1280 x 800 at 200%: 640 x 400 CSS pixels.
  const { ctx, shop, w } = await shopAt('shop zoom', { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
  await w.launcher.click();
  await w.input.fill('Zoomed in question');
  await w.input.press('Enter');
  await agent.accept();
  await agent.reply('Zoomed in answer');
  await shop.locator('exceed-chat >> .msg.theirs:has-text("Zoomed in answer")').waitFor();
  assert.equal(await w.panel.getAttribute('aria-modal'), 'true', 'the full-window panel is modal');
  await agent.resolve();
  await shop.locator('exceed-chat >> .csat-form').waitFor();
  const logHeight = await w.log.evaluate((e) => e.getBoundingClientRect().height);
  assert.ok(logHeight >= 150, `the log is ${logHeight} px tall with the CSAT open`);
  await assertNoSidewaysScroll(shop, 'widget at 200%');
  await assertAccessible(shop, 'widget CSAT at 200% zoom');
  await screenshot(shop, 'a11y-widget-zoom-csat');
  await agent.offline();
  await agent.page.context().close();
  await ctx.close();
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR|favicon/.test(e)), []);
});
