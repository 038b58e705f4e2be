// The new states of the three clients for everyone (WCAG 2.1 AA): an
// invitation in the widget never takes focus, is spoken once, and is
// answered from the keyboard; the console's live list of visitors, its
// saved replies and the suggestions in the reply box, and the dashboard's
// visitors and shared replies pass axe-core (no serious or critical
// violation) at 1280 px and 320 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Stack, agentLogin, dashboardLogin, goOnline, watchPage } from './lib/harness.mjs';
import { assertAccessible, assertFocus, waitForFocus } from './lib/a11y.mjs';

const cfgDir = mkdtempSync(path.join(tmpdir(), 'exceed-e2e-cfg-'));
writeFileSync(path.join(cfgDir, 'exceed.toml'),
  '[invitations.rules.checkout]\npage = "/demo/checkout*"\ntime_on_page_s = 1\nteam_online = false\n' +
  'text = "Need a hand with your order?"\n');
const stack = new Stack({ env: { EXCEED_CONFIG: path.join(cfgDir, 'exceed.toml') } });
const errors = [];
let browser;

before(async () => {
  await stack.start();
  await stack.addUser('ann', 'agent', 'Ann Agent', ['--teams', 'support']);
  await stack.addUser('boss', 'supervisor', 'Sam Supervisor');
  browser = await stack.launchBrowser();
  const boss = await stack.login('boss');
  const made = await fetch(stack.base + '/api/v1/replies', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + boss.token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope: 'team', team: 'support', shortcut: 'refund', title: 'Refund on its way',
      text: 'Hi {{customer.name}}, your refund is on its way.' }),
  });
  assert.equal(made.status, 201);
});
after(async () => {
  if (errors.length) console.log(errors.join('\n'));
  await stack.stop();
  rmSync(cfgDir, { recursive: true, force: true });
});

async function page(label, width = 1280, height = 800) {
  const p = await (await browser.newContext({ viewport: { width, height } })).newPage();
  watchPage(p, label, errors);
  return p;
}

// A visitor on the checkout page with an invitation on screen.
async function invitedVisitor(width = 1280) {
  const shop = await page(`shop ${width}`, width);
  await shop.goto(stack.base + '/demo/store.html');
  await shop.click('#add');
  await shop.click('#to-checkout');
  await shop.locator('exceed-chat >> .invite').waitFor();
  return shop;
}

test('an invitation is spoken once, never takes focus, and is answered by keyboard', async () => {
  const shop = await page('shop keys');
  await shop.goto(stack.base + '/demo/store.html');
  await shop.click('#add');
  await shop.goto(stack.base + '/demo/checkout.html');
  // The customer is working on the page when the invitation comes.
  await shop.locator('#place').focus();
  const invite = shop.locator('exceed-chat >> .invite');
  await invite.waitFor();
  await assertFocus(shop, shop.locator('#place'), 'the page’s own button (an invitation takes no focus)');
  assert.equal(await invite.getAttribute('role'), 'region');
  assert.equal(await invite.getAttribute('aria-label'), 'Message from our team');
  assert.equal(await shop.locator('exceed-chat >> .invite-live').getAttribute('aria-live'), 'polite');
  await assertAccessible(shop, 'widget with an invitation 1280px');

  // Tab reaches "Chat now", then "No, thanks"; Escape there dismisses it
  // and focus goes to the chat button.
  await shop.keyboard.press('Tab');
  await assertFocus(shop, shop.locator('exceed-chat >> .invite-go'), '“Chat now”');
  await shop.keyboard.press('Tab');
  await assertFocus(shop, shop.locator('exceed-chat >> .invite-no'), '“No, thanks”');
  await shop.keyboard.press('Escape');
  await invite.waitFor({ state: 'hidden' });
  await waitForFocus(shop, shop.locator('exceed-chat >> .launcher'), 'the chat button');
});

test('axe: the invitation at 320 px, and "Chat now" by keyboard opens the chat with focus in the reply box', async () => {
  const shop = await invitedVisitor(320);
  await assertAccessible(shop, 'widget with an invitation 320px');
  await shop.locator('exceed-chat >> .invite-go').focus();
  await shop.keyboard.press('Enter');
  await waitForFocus(shop, shop.locator('exceed-chat >> #xc-input'), 'the reply box');
});

test('axe: the console’s visitors, saved replies and suggestions, at 1280 and 320 px', async () => {
  await invitedVisitor();
  for (const width of [1280, 320]) {
    const agent = await page(`console ${width}`, width);
    await agentLogin(agent, stack, 'ann');
    await goOnline(agent);
    await agent.click('#tab-visitors');
    await agent.locator('#visitors tbody tr').first().waitFor();
    await assertAccessible(agent, `console visitors ${width}px`);
    // The filter's answer is said once.
    await agent.locator('#visitors input[type=checkbox]').check();
    await agent.locator('#visitors [role=status]', { hasText: 'match the filter' }).waitFor();
    await agent.click('#tab-replies');
    await agent.locator('#replies .rep').first().waitFor();
    await assertAccessible(agent, `console saved replies ${width}px`);
  }

  // Suggestions open in a chat.
  const agent = await page('console chat');
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  const shop = await invitedVisitor();
  await shop.locator('exceed-chat >> .invite-go').click();
  const input = shop.locator('exceed-chat >> #xc-input');
  await input.fill('My refund?');
  await input.press('Enter');
  await agent.locator('.offer button:has-text("Accept")').click();
  // The chat is open (its first message shown) before the agent types: keys
  // pressed while it opens would go nowhere.
  await agent.locator('.msg.customer:has-text("My refund?")').waitFor();
  await agent.locator('#input').pressSequentially('/re');
  await agent.locator('#reply-suggest [role=option]').first().waitFor();
  await assertFocus(agent, agent.locator('#input'), 'the reply box (suggestions keep focus there)');
  await assertAccessible(agent, 'console reply suggestions');
  await agent.keyboard.press('Escape');
  await agent.locator('#reply-suggest').waitFor({ state: 'hidden' });
  assert.equal(await agent.locator('#input').inputValue(), '/re');
});

test('axe: the dashboard’s visitors and shared replies, at 1280 and 320 px', async () => {
  await invitedVisitor();
  for (const width of [1280, 320]) {
    const boss = await page(`dashboard ${width}`, width);
    await dashboardLogin(boss, stack, 'boss');
    await boss.locator('#visitors tbody tr').first().waitFor();
    await boss.locator('#replies .rep').first().waitFor();
    await assertAccessible(boss, `dashboard visitors and replies ${width}px`);
  }
});
