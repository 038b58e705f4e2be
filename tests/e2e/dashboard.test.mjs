// (d) The supervisor dashboard shows the queued chat, and force-assign works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, dashboardLogin, agentLogin, goOnline, screenshot, watchPage } from './lib/harness.mjs';

// Customers wait in the queue while nobody is online (instead of becoming tickets).
const suite = useStack({
  env: { EXCEED_ROUTING_TICKET_WHEN_OFFLINE: 'false' },
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
    ['boss', 'supervisor', 'Sam Supervisor'],
  ],
});
const { stack, errors } = suite;

test('dashboard lists the queue and force-assigns a chat', async () => {
  const shop = await (await suite.browser.newContext()).newPage();
  const dash = await (await suite.browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  for (const [p, l] of [[shop, 'shop'], [dash, 'dashboard'], [agent, 'console']]) watchPage(p, l, errors);

  // Nobody online: the customer waits in the queue.
  await shop.goto(stack.base + '/demo/shop.html');
  await shop.click('exceed-chat >> .launcher');
  await shop.locator('exceed-chat >> #xc-input').fill('Can I change my delivery address?');
  await shop.locator('exceed-chat >> #xc-input').press('Enter');
  await shop.waitForSelector('exceed-chat >> .sub:has-text("in line")');
  const convId = await shop.evaluate(() => window.__exceedWidget.state.conversationId);

  await dashboardLogin(dash, stack, 'boss');
  const row = dash.locator(`#queue tr[data-conversation-id="${convId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /support/);
  // With live metrics the queue tile counts the chat; a server without them
  // (metrics.subscribe answers "not available") is said so in words, not zeros.
  await dash.waitForSelector('#metrics-state[data-state]', { state: 'attached' });
  if (await dash.getAttribute('#metrics-state', 'data-state') === 'unavailable') {
    await dash.waitForSelector('#metrics-unavailable:has-text("not available on this server version")');
  } else {
    await dash.waitForSelector('.tile[data-key="queue_length"][data-value="1"]');
  }
  // The review list answers (empty: nothing resolved yet).
  await dash.waitForSelector('#review-empty:not([hidden])');
  await screenshot(dash, 'dashboard-queue');

  // The agent comes online (the router offers the chat), the supervisor force-assigns it.
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  // The chat and the agent are picked by name; assigning without an agent is explained in words.
  await row.locator('button:has-text("Assign")').click();
  assert.equal(await dash.inputValue('#assign-conv'), convId);
  await dash.click('#assign-form button[type=submit]');
  await dash.waitForSelector('#assign-result.bad:has-text("Choose an agent")');
  const ann = dash.locator(`#assign-form input[name=assign-agent][value="${stack.users.ann.id}"]:not([disabled])`);
  await ann.waitFor();
  await ann.check();
  await dash.click('#assign-form button[type=submit]');
  await dash.waitForSelector('#assign-result:not(.bad):has-text("is now with Ann Agent")');

  // Everyone sees it: the agent has the chat, the customer the agent's name, the dashboard lists it as active.
  await agent.waitForSelector('.msg.customer:has-text("delivery address")');
  assert.equal(await agent.locator('.offer').count(), 0);
  await shop.waitForSelector('exceed-chat >> #xc-title:has-text("Ann Agent")');
  await dash.waitForSelector(`#active tr[data-conversation-id="${convId}"]:has-text("Ann Agent")`);
  await dash.waitForSelector(`#queue tr[data-conversation-id="${convId}"]`, { state: 'detached' });
  await dash.fill('#lookup-id', convId);
  await dash.click('#lookup-form button[type=submit]');
  await dash.waitForSelector('#lookup dd:has-text("Ann Agent")');
  await screenshot(dash, 'dashboard');
});
