// (a) A customer on the demo shop chats with an agent from offer to CSAT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, customerWrites, agentLogin, goOnline, screenshot, watchPage } from './lib/harness.mjs';

const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support,sales']],
    ['boss', 'supervisor', 'Sam Supervisor'],
  ],
});
const { stack, errors } = suite;

test('customer and agent chat from offer to CSAT "met"', async () => {
  const customerCtx = await suite.browser.newContext({ viewport: { width: 1200, height: 800 } });
  const agentCtx = await suite.browser.newContext({ viewport: { width: 1360, height: 820 } });
  const shop = await customerCtx.newPage();
  const agent = await agentCtx.newPage();
  watchPage(shop, 'shop', errors);
  watchPage(agent, 'console', errors);

  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);

  const input = await customerWrites(shop, stack, 'Hi, my order #4411 has not arrived yet.');
  // Queued: the header says where the customer stands.
  await shop.waitForSelector('exceed-chat >> .sub:has-text("in line")');

  // The agent gets the offer with a live countdown, and accepts it.
  const offer = agent.locator('.offer');
  await offer.waitFor();
  assert.match(await offer.locator('.preview').textContent(), /order #4411/);
  assert.match(await offer.locator('.left').textContent(), /\d+ s left/);
  assert.match(await agent.title(), /New chat offer/);
  await offer.locator('button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("order #4411")');
  assert.equal(await agent.locator('.offer').count(), 0);

  // The customer sees the agent's name.
  await shop.waitForSelector('exceed-chat >> #xc-title:has-text("Ann Agent")');

  // Typing shows on both sides.
  await agent.locator('#input').pressSequentially('Let me check');
  await shop.waitForSelector('exceed-chat >> .typing:has-text("Ann Agent is typing")');
  await agent.locator('#input').fill('');
  await agent.locator('#input').fill('Hello! Your parcel is with the courier and arrives tomorrow.');
  await agent.locator('#input').press('Enter');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("arrives tomorrow")');
  await shop.waitForSelector('exceed-chat >> .typing', { state: 'hidden' });
  await agent.waitForSelector('.msg.agent[data-seq]:has-text("arrives tomorrow")');

  await input.pressSequentially('Great, thanks');
  await agent.waitForSelector('#typing:has-text("is typing")');
  await input.press('Enter');
  await agent.waitForSelector('.msg.customer:has-text("Great, thanks")');
  // Sent, then read: the customer's message gets "Read" once the agent has it on screen.
  await shop.waitForSelector('exceed-chat >> .msg.mine[data-state="read"]:has-text("Great, thanks")');
  // The agent's reply is read by the customer (panel open).
  await agent.waitForSelector('.msg.agent[data-state="read"]');

  // A private note: shown to the agent, never to the customer.
  await agent.check('input[name=mode][value=note]');
  await agent.fill('#input', 'Courier confirmed by phone');
  await agent.press('#input', 'Enter');
  await agent.waitForSelector('.msg.note:has-text("Courier confirmed by phone")');
  await agent.check('input[name=mode][value=reply]');

  await screenshot(shop, 'widget-shop');
  await screenshot(agent, 'console-chat');
  const convId = await shop.evaluate(() => window.__exceedWidget.state.conversationId);
  assert.ok(convId);
  assert.equal(await shop.locator('exceed-chat >> text=Courier confirmed').count(), 0);

  // Resolve; the customer answers the CSAT.
  await agent.click('#resolve');
  await agent.waitForSelector('#chat-banner:has-text("resolved")');
  await shop.waitForSelector('exceed-chat >> .csat-form');
  assert.ok(await shop.locator('exceed-chat >> legend:has-text("Did we exceed, meet, or fall below what you needed?")').count());
  await shop.locator('exceed-chat >> .stars label').nth(3).click();
  await shop.locator('exceed-chat >> .expect label:has-text("Met")').click();
  await screenshot(shop, 'widget-csat');
  await shop.locator('exceed-chat >> .csat-form button[type=submit]').click();
  await shop.waitForSelector('exceed-chat >> .thanks');

  const boss = await stack.login('boss');
  const conv = await stack.get('/api/v1/conversations/' + encodeURIComponent(convId), boss.token);
  assert.equal(conv.status, 'resolved');
  assert.equal(conv.csat.rating, 4);
  assert.equal(conv.csat.expectation, 'met');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
  await customerCtx.close();
  await agentCtx.close();
});

test('signing out does not hang on a link that stopped answering, and a reload meanwhile does not sign back in', async () => {
  const ctx = await suite.browser.newContext();
  const agent = await ctx.newPage();
  watchPage(agent, 'console silent link', suite.errors);
  // Every frame goes through untouched until `silent`: then the server's
  // frames no longer reach the page (the link is open but says nothing).
  let silent = false;
  await agent.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => { if (!silent) ws.send(m); });
  });
  await agentLogin(agent, suite.stack, 'ann');
  await goOnline(agent);
  silent = true;
  const started = Date.now();
  await agent.click('#logout');
  // The offline request gets no answer; the console signs out anyway.
  await agent.locator('#login-form input[name=username]').waitFor({ timeout: 10000 });
  assert.ok(Date.now() - started < 8000, 'signed out within the 3 s it waits, and then some');

  // Signing out forgets the session at once: a reload while the offline
  // request is still out shows the login form, not the agent's console.
  silent = false;
  await agentLogin(agent, suite.stack, 'ann');
  await goOnline(agent);
  silent = true;
  await agent.click('#logout');
  await agent.reload();
  await agent.locator('#login-form input[name=username]').waitFor({ timeout: 10000 });
  assert.equal(await agent.locator('#app').isVisible(), false, 'not signed back in by the reload');
  await ctx.close();
});
