// The customer's verdict without a survey: the agent records the outcome and
// what went beyond from the console, the customer taps "Did this solve it?"
// and one star in the widget, and the supervisor's review list shows the
// outcome, the extra, the confidence and the customer's own words quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, customerWrites, dashboardLogin, agentLogin, goOnline, screenshot, watchPage } from './lib/harness.mjs';

const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
    ['boss', 'supervisor', 'Sam Supervisor'],
  ],
});
const { stack, errors } = suite;

test('outcome, went beyond, the solved tap, one-tap stars and quoted evidence reach the review list and the console', async () => {
  const shop = await (await suite.browser.newContext()).newPage();
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
  const dash = await (await suite.browser.newContext({ viewport: { width: 1360, height: 1000 } })).newPage();
  for (const [p, l] of [[shop, 'shop'], [dash, 'dashboard'], [agent, 'console']]) watchPage(p, l, errors);

  await dashboardLogin(dash, stack, 'boss');
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);

  const input = await customerWrites(shop, stack, 'My order #7731 still shows processing');
  await agent.locator('.offer button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("order #7731")');
  await agent.fill('#input', 'It ships tomorrow; I have added a discount code to your account for the wait.');
  await agent.press('#input', 'Enter');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("ships tomorrow")');
  await input.fill('That took forever to find out.');
  await input.press('Enter');
  await agent.waitForSelector('.msg.customer:has-text("took forever")');
  const convId = await shop.evaluate(() => window.__exceedWidget.state.conversationId);

  // The agent records how it ended, from the console.
  await agent.locator('#outcome-form input[value=workaround]').check();
  await agent.fill('#went-beyond', 'Added a 10% discount code for the wait');
  await agent.click('#outcome-form button[type=submit]');
  await agent.waitForSelector('#outcome-saved:has-text("Saved")');
  await agent.click('#resolve');
  await agent.waitForSelector('#chat-banner:has-text("resolved")');

  // The customer: "Did this solve it?" first, then one tap on a star, nothing else.
  await shop.waitForSelector('exceed-chat >> .solved-ask');
  await screenshot(shop, 'widget-solved-ask');
  await shop.locator('exceed-chat >> .solved-ask button:has-text("Not really")').click();
  await shop.waitForSelector('exceed-chat >> .solved-noted');
  await shop.locator('exceed-chat >> .stars label').nth(1).click();
  await shop.waitForSelector('exceed-chat >> .csat-saved:has-text("Rating saved")');

  // The review list: below, high confidence, the facts, and the words quoted.
  const item = dash.locator(`#review li.review-item[data-conversation-id="${convId}"]`);
  await item.locator('.tag.confidence:has-text("high confidence")').waitFor({ timeout: 15000 });
  assert.match(await item.locator('.tag').first().textContent(), /below/);
  await item.locator('.facts .fact:has-text("Customer: not really solved")').waitFor();
  await item.locator('.facts .fact:has-text("Agent: workaround")').waitFor();
  await item.locator('.facts .fact:has-text("Went beyond: Added a 10% discount code for the wait")').waitFor();
  await item.locator('.reasons q.evidence:has-text("took forever")').waitFor();
  await item.scrollIntoViewIfNeeded();
  await screenshot(dash, 'dashboard-review-verdict');

  // The console shows the same judgement for the resolved chat.
  await agent.click('#judged-refresh');
  await agent.waitForSelector('#judged-level:has-text("below · high confidence")');
  await agent.waitForSelector('#judged-reasons li:has-text("customer: \\"took forever\\"")');
  await screenshot(agent, 'console-outcome');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
});
