// Before the purchase: a visitor browsing the demo shop shows in the agent's
// live list with the page and the cart; a rule invites them after a few
// seconds on the checkout page; accepting starts a pre-purchase chat that
// an agent gets with the rule and the cart; a dismissed invitation does not
// come back in the same visit; and an agent inserts a saved reply with its
// placeholders filled in for the chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Stack, agentLogin, goOnline, screenshot, watchPage } from './lib/harness.mjs';

// One rule: 2 s on a checkout page.
const cfgDir = mkdtempSync(path.join(tmpdir(), 'exceed-e2e-cfg-'));
writeFileSync(path.join(cfgDir, 'exceed.toml'),
  '[invitations.rules.checkout]\npage = "/demo/checkout*"\ntime_on_page_s = 2\n' +
  'text = "Need a hand with your order? Ask us here."\n');
const stack = new Stack({ env: { EXCEED_CONFIG: path.join(cfgDir, 'exceed.toml'), EXCEED_INVITATIONS_MIN_GAP_S: '1' } });
const errors = [];
let browser;

before(async () => {
  await stack.start();
  await stack.addUser('ann', 'agent', 'Ann Agent', ['--teams', 'support']);
  await stack.addUser('boss', 'supervisor', 'Sam Supervisor');
  browser = await stack.launchBrowser();
});
after(async () => {
  if (errors.length) console.log(errors.join('\n'));
  await stack.stop();
  rmSync(cfgDir, { recursive: true, force: true });
});

async function page(label, viewport = { width: 1280, height: 820 }) {
  const p = await (await browser.newContext({ viewport })).newPage();
  watchPage(p, label, errors);
  return p;
}

// The agent's row for the visitor whose name is shown (every demo visitor is "Visitor").
function rowOf(agent, text) {
  return agent.locator('#visitors tbody tr', { hasText: text });
}

async function widgetReported(shop) {
  await shop.waitForFunction(() => window.__exceedWidget && window.__exceedWidget.state.paged);
}

test('a visitor in the shop shows in the live list with page and cart; a rule invites them on checkout; a dismissal holds for the visit', async () => {
  const agent = await page('console');
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  await agent.click('#tab-visitors');
  await agent.locator('#visitors[data-state="subscribed"]').waitFor();

  const shop = await page('shop');
  await shop.goto(stack.base + '/demo/store.html');
  await widgetReported(shop);
  await shop.click('#add');
  const row = rowOf(agent, 'Waxed canvas rucksack');
  await row.locator('.cart', { hasText: '1 item' }).waitFor();
  assert.match(await row.locator('.cart').textContent(), /129/);
  assert.match(await row.locator('.path').textContent(), /\/demo\/store\.html/);
  assert.equal(await row.locator('.state').textContent(), 'Browsing');

  // The checkout page: the rule invites after 2 s there, beside the chat button.
  await shop.click('#to-checkout');
  await rowOf(agent, 'Checkout').waitFor();
  const invite = shop.locator('exceed-chat >> .invite');
  await invite.waitFor();
  assert.match(await invite.locator('.invite-text').textContent(), /Need a hand with your order/);
  assert.equal(await shop.locator('exceed-chat >> .invite-live').textContent(), 'Our team: Need a hand with your order? Ask us here.');
  await rowOf(agent, 'Checkout').locator('.state', { hasText: 'Invited' }).waitFor();
  await agent.locator('#visitors tbody tr[data-checkout="true"]').waitFor();
  await screenshot(shop, 'widget-invitation');
  await screenshot(agent, 'console-visitors');

  // "No, thanks": gone, and not back on the next page of the visit.
  await invite.locator('.invite-no').click();
  await invite.waitFor({ state: 'hidden' });
  await rowOf(agent, 'Checkout').locator('.state', { hasText: 'Dismissed' }).waitFor();
  const button = rowOf(agent, 'Checkout').locator('button.invite');
  assert.equal(await button.getAttribute('aria-disabled'), 'true');
  assert.match(await button.getAttribute('aria-label'), /dismissed an invitation/);
  await shop.reload();
  await widgetReported(shop);
  await rowOf(agent, 'Checkout').locator('.pages', { hasText: '3' }).waitFor();
  // Longer than the rule's 2 s and a rules tick: nothing may come (an absence cannot be awaited).
  await shop.waitForTimeout(3500);
  assert.equal(await invite.isVisible(), false);
  assert.equal(await shop.evaluate(() => window.__exceedWidget.state.invitationId), null);
});

test('accepting an invitation starts a pre-purchase chat that the agent gets with the rule and the cart', async () => {
  const agent = await page('console 2');
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);

  const shop = await page('shop 2');
  await shop.goto(stack.base + '/demo/store.html');
  await widgetReported(shop);
  await shop.click('#add');
  await shop.click('#add');
  await shop.click('#to-checkout');
  const invite = shop.locator('exceed-chat >> .invite');
  await invite.waitFor();
  await invite.locator('.invite-go').click();
  // The chat opens with the reply box ready.
  const input = shop.locator('exceed-chat >> #xc-input');
  await shop.waitForFunction(() => {
    const host = document.querySelector('exceed-chat');
    return host && host.shadowRoot.activeElement && host.shadowRoot.activeElement.id === 'xc-input';
  });
  await input.fill('Does the rucksack fit a 15-inch laptop?');
  await input.press('Enter');

  const offer = agent.locator('.offer');
  await offer.waitFor();
  assert.match(await offer.locator('.tags').textContent(), /pre-purchase/);
  await offer.locator('button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("15-inch laptop")');
  const ctx = agent.locator('#ctx');
  await ctx.locator('dd', { hasText: 'Before purchase' }).waitFor();
  await ctx.locator('dd', { hasText: 'an invitation (rule “checkout”)' }).waitFor();
  assert.match(await ctx.textContent(), /Cart€258\.00 · 2 items/);
  await shop.waitForSelector('exceed-chat >> #xc-title:has-text("Ann Agent")');
  assert.equal(await invite.isVisible(), false);

  const boss = await stack.login('boss');
  const report = await stack.get('/api/v1/reports/invitations', boss.token);
  assert.ok(report.totals.shown >= 1);
  assert.ok(report.totals.accepted >= 1);
  assert.ok(report.totals.chats >= 1);
});

test('an agent inserts a saved reply with its placeholders filled in for the chat', async () => {
  const boss = await stack.login('boss');
  const made = await fetch(stack.base + '/api/v1/replies', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + boss.token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope: 'team', team: 'support', shortcut: 'laptop', title: 'Laptop sleeve',
      text: 'Hi {{customer.name}}, I am {{agent.name}}: yes, it fits a 15-inch laptop. Your cart: {{cart.value}} {{cart.currency}}.' }),
  });
  assert.equal(made.status, 201);

  const agent = await page('console 3');
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  const shop = await page('shop 3');
  // The shop's page knows its signed-in customer before the widget loads.
  await shop.addInitScript(() => {
    window.Exceed = { q: [['identify', { user_id: 'dana-4411', name: 'Dana' }]], page() { this.q.push(['page']); },
      track(...a) { this.q.push(['track', ...a]); }, identify(...a) { this.q.push(['identify', ...a]); } };
  });
  await shop.goto(stack.base + '/demo/store.html');
  await widgetReported(shop);
  await shop.click('#add');
  await shop.click('exceed-chat >> .launcher');
  const input = shop.locator('exceed-chat >> #xc-input');
  await input.fill('Will it fit my laptop?');
  await input.press('Enter');
  await agent.locator('.offer button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("fit my laptop")');

  // "/lap" lists the reply; Enter puts it, filled, in the reply box.
  await agent.locator('#input').pressSequentially('/lap');
  const option = agent.locator('#reply-suggest [role=option]', { hasText: '/laptop' });
  await option.waitFor();
  assert.equal(await agent.locator('#input').getAttribute('aria-activedescendant'), await option.getAttribute('id'));
  assert.match(await agent.locator('#reply-status').textContent(), /1 saved reply matches \/lap/);
  await agent.locator('#input').press('Enter');
  await agent.waitForFunction(() => document.querySelector('#input').value.startsWith('Hi Dana'));
  assert.equal(await agent.locator('#input').inputValue(),
    'Hi Dana, I am Ann Agent: yes, it fits a 15-inch laptop. Your cart: 129 EUR.');
  assert.match(await agent.locator('#reply-status').textContent(), /Inserted \/laptop/);
  assert.equal(await agent.locator('#reply-suggest').isVisible(), false);
  await screenshot(agent, 'console-saved-reply');
  // The agent reads it and sends it.
  await agent.locator('#input').press('Enter');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("it fits a 15-inch laptop")');

  const list = await stack.get('/api/v1/replies?q=laptop', boss.token);
  assert.equal(list.items[0].uses, 1);
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
});
