// (c) The widget on a 360 px wide phone, keyboard use, and style isolation:
// the host page's CSS does not reach the widget and the widget's does not leak out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, screenshot, watchPage } from './lib/harness.mjs';

// Customers wait in the queue while nobody is online (offline.test.mjs covers
// the default, where such a chat becomes a ticket).
const suite = useStack({ env: { EXCEED_ROUTING_TICKET_WHEN_OFFLINE: 'false' } });
const { stack, errors } = suite;

// Computed styles of the host page's own elements.
function hostStyles() {
  const props = ['color', 'background-color', 'font-family', 'font-size', 'line-height', 'letter-spacing', 'margin-top', 'padding-top', 'border-top-width', 'box-sizing', 'display'];
  const out = {};
  for (const sel of ['body', 'h1', 'p', '#host-button', '.card', 'td', 'header.shop', '.steps li']) {
    const cs = getComputedStyle(document.querySelector(sel));
    out[sel] = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
  }
  return out;
}

test('host styles are untouched and do not reach the widget', async () => {
  const ctx = await suite.browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  watchPage(page, 'shop', errors);
  // The same page without the widget, for reference.
  await page.route('**/widget.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
  await page.goto(stack.base + '/demo/shop.html');
  const without = await page.evaluate(hostStyles);
  await page.unroute('**/widget.js');
  await page.goto(stack.base + '/demo/shop.html');
  await page.click('exceed-chat >> .launcher');
  await page.waitForSelector('exceed-chat >> .panel');
  const withWidget = await page.evaluate(hostStyles);
  await page.mouse.move(5, 300); // no hover colour on the launcher
  assert.deepEqual(withWidget, without, 'the widget changes no style of the host page');

  // The host rule `button { background: red; font-family: "Comic Sans MS" }` applies to the host's button only.
  assert.equal(without['#host-button']['background-color'], 'rgb(255, 0, 0)');
  const launcher = await page.locator('exceed-chat >> .launcher').evaluate((b) => {
    const cs = getComputedStyle(b);
    return { bg: cs.backgroundColor, font: cs.fontFamily, radius: cs.borderRadius };
  });
  assert.equal(launcher.bg, 'rgb(43, 80, 216)');
  assert.doesNotMatch(launcher.font, /Comic/);
  const sendBtn = await page.locator('exceed-chat >> .send').evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(sendBtn, 'rgb(43, 80, 216)');
  // Inherited host fonts (Georgia serif, 17px) stop at the widget.
  const textFont = await page.locator('exceed-chat >> .intro').evaluate((e) => getComputedStyle(e).fontFamily + '|' + getComputedStyle(e).fontSize);
  assert.doesNotMatch(textFont, /Georgia/);
  assert.match(textFont, /\|14px$/);
  await ctx.close();
});

test('works at 360 px wide and by keyboard alone', async () => {
  const ctx = await suite.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  watchPage(page, 'mobile', errors);
  await page.goto(stack.base + '/demo/shop.html');
  const launcher = page.locator('exceed-chat >> .launcher');
  await launcher.waitFor();
  // Keyboard: focus the launcher, open with Enter, type, send with Enter.
  await launcher.focus();
  await page.keyboard.press('Enter');
  const panel = page.locator('exceed-chat >> .panel');
  await panel.waitFor();
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('exceed-chat >> #xc-input').evaluate((e) => e.getRootNode().activeElement === e), true, 'focus moves into the composer');
  const box = await panel.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 360 + 0.5, `panel fits the 360 px viewport: ${JSON.stringify(box)}`);
  const input = page.locator('exceed-chat >> #xc-input');
  const ibox = await input.boundingBox();
  assert.ok(ibox.width > 200, 'the composer is usable');
  await page.keyboard.type('Do you ship to Norway?');
  await page.keyboard.press('Enter');
  await page.waitForSelector('exceed-chat >> .msg.mine[data-seq]:has-text("Norway")');
  await page.waitForSelector('exceed-chat >> .sub:has-text("in line")');
  assert.equal(await page.locator('exceed-chat >> [role=log]').getAttribute('aria-live'), 'polite');
  // No horizontal scrolling on the phone.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360 + 1));
  await screenshot(page, 'widget-mobile');
  // Escape closes and gives focus back to the launcher.
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await launcher.evaluate((e) => e.getRootNode().activeElement === e), true);
  await ctx.close();
});

// Opening the panel starts connecting (a visitor is made first, over HTTP).
// A customer who types before that answer comes must not start a second
// visitor and socket: the first message then waited for an ack that came
// on the socket the widget had dropped, and stayed "sending" for good.
test('a message typed while the visitor is still being made is sent once, on one connection', async () => {
  const ctx = await suite.browser.newContext();
  const page = await ctx.newPage();
  watchPage(page, 'slow-visitor', errors);
  let visitorPosts = 0;
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/api/v1/visitors', async (route) => {
    visitorPosts++;
    await held;
    await route.continue();
  });
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(stack.base + '/demo/shop.html');
  await page.click('exceed-chat >> .launcher');
  await page.waitForSelector('exceed-chat[data-conn="connecting"]');
  const input = page.locator('exceed-chat >> #xc-input');
  await input.fill('Typed before the widget was connected');
  await input.press('Enter');
  await page.waitForSelector('exceed-chat >> .msg.pending:has-text("Typed before the widget was connected")');
  release();
  await page.waitForSelector('exceed-chat >> .msg.mine[data-seq="1"]:has-text("Typed before the widget was connected")');
  assert.equal(visitorPosts, 1, 'one visitor is made');
  assert.equal(sockets.length, 1, 'one WebSocket is opened');
  assert.equal(await page.locator('exceed-chat >> .msg.pending').count(), 0);
  await ctx.close();
});
