// (b) The server dies mid-chat (SIGKILL) and comes back on the same port:
// both clients reconnect by themselves, resume, and nothing is lost or doubled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, customerWrites, agentLogin, goOnline, watchPage } from './lib/harness.mjs';

const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
  ],
});
const { stack, errors } = suite;

// Every bubble that stands for a stored message, with its seq.
const widgetSeqs = (page) => page.locator('exceed-chat >> .msg[data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
const consoleSeqs = (page) => page.locator('#log .msg[data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
const texts = (loc) => loc.evaluateAll((els) => els.map((e) => e.querySelector('.text').textContent));

test('both sides reconnect after a server crash and the chat goes on', async () => {
  const shop = await (await suite.browser.newContext()).newPage();
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  watchPage(shop, 'shop', errors);
  watchPage(agent, 'console', errors);
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);

  const input = await customerWrites(shop, stack, 'My parcel is late');
  await agent.locator('.offer button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("My parcel is late")');
  await agent.fill('#input', 'Looking into it now.');
  await agent.press('#input', 'Enter');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("Looking into it now.")');

  // Crash.
  await stack.killServer();
  await shop.waitForSelector('exceed-chat[data-conn="reconnecting"]');
  await agent.waitForSelector('#conn[data-state="reconnecting"]');
  await shop.waitForSelector('exceed-chat >> .conn:has-text("Connection lost")');

  // Both write while the server is down: the messages wait, marked as sending.
  await input.fill('Are you still there?');
  await input.press('Enter');
  await shop.waitForSelector('exceed-chat >> .msg.pending[data-state="pending"]:has-text("Are you still there?")');
  await agent.fill('#input', 'Sorry, one moment please.');
  await agent.press('#input', 'Enter');
  await agent.waitForSelector('.msg.pending:has-text("Sorry, one moment please.")');

  // Back on the same port: both reconnect by themselves (backoff with jitter).
  await stack.startServer();
  await shop.waitForSelector('exceed-chat[data-conn="online"]', { timeout: 45000 });
  await agent.waitForSelector('#conn[data-state="online"]', { timeout: 45000 });

  await agent.waitForSelector('.msg.customer:has-text("Are you still there?")');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("Sorry, one moment please.")');
  await shop.waitForSelector('exceed-chat >> .msg.pending', { state: 'detached' });
  await agent.waitForSelector('.msg.pending', { state: 'detached' });

  // The chat goes on.
  await agent.fill('#input', 'Found it: it ships today.');
  await agent.press('#input', 'Enter');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("it ships today")');
  await input.fill('Thank you!');
  await input.press('Enter');
  await agent.waitForSelector('.msg.customer:has-text("Thank you!")');
  await shop.waitForSelector('exceed-chat >> .msg.mine[data-seq]:has-text("Thank you!")');

  const convId = await shop.evaluate(() => window.__exceedWidget.state.conversationId);
  const boss = await stack.login('ann');
  const conv = await stack.get('/api/v1/conversations/' + encodeURIComponent(convId), boss.token);
  const expected = Array.from({ length: conv.last_seq }, (_, i) => i + 1);
  assert.deepEqual(await widgetSeqs(shop), expected, 'widget shows each stored message once, in order');
  assert.deepEqual(await consoleSeqs(agent), expected, 'console shows each stored message once, in order');
  // The message typed during the outage was stored exactly once.
  const stored = await stack.get(`/api/v1/conversations/${encodeURIComponent(convId)}/messages?limit=200`, boss.token);
  const all = stored.items.map((m) => m.text);
  assert.equal(all.filter((t) => t === 'Are you still there?').length, 1);
  assert.equal(all.filter((t) => t === 'Sorry, one moment please.').length, 1);
  const shopTexts = await texts(shop.locator('exceed-chat >> .msg'));
  assert.equal(shopTexts.filter((t) => t === 'Are you still there?').length, 1);
  assert.equal(shopTexts.filter((t) => t === 'Sorry, one moment please.').length, 1);
  const agentTexts = await texts(agent.locator('#log .msg:not(.note)'));
  assert.equal(agentTexts.filter((t) => t === 'Are you still there?').length, 1);
  assert.equal(agentTexts.filter((t) => t === 'Sorry, one moment please.').length, 1);
});

test('a reload of the shop page continues the same conversation', async () => {
  const ctx = await suite.browser.newContext();
  const shop = await ctx.newPage();
  watchPage(shop, 'shop-reload', errors);
  const input = await customerWrites(shop, stack, 'Question before I reload');
  await shop.waitForSelector('exceed-chat >> .msg.mine[data-seq]:has-text("Question before I reload")');
  const before = await shop.evaluate(() => window.__exceedWidget.state.conversationId);
  await shop.reload();
  await shop.click('exceed-chat >> .launcher');
  await shop.waitForSelector('exceed-chat >> .msg.mine[data-seq]:has-text("Question before I reload")');
  assert.equal(await shop.evaluate(() => window.__exceedWidget.state.conversationId), before);
  assert.equal(await shop.locator('exceed-chat >> .msg[data-seq]').count(), 1);
  await ctx.close();
});
