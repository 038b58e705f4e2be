// (e) A chat that only met the customer's needs reaches the supervisor's review
// list with its reasons; the supervisor reads the transcript and marks it reviewed.
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

test('a "met" chat is on the review list with its reasons until marked reviewed', async () => {
  const shop = await (await suite.browser.newContext()).newPage();
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  const dash = await (await suite.browser.newContext({ viewport: { width: 1360, height: 1000 } })).newPage();
  for (const [p, l] of [[shop, 'shop'], [dash, 'dashboard'], [agent, 'console']]) watchPage(p, l, errors);

  // The supervisor watches first: the list fills from the live assessment event.
  await dashboardLogin(dash, stack, 'boss');
  await dash.waitForSelector('#review-empty:not([hidden])');

  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);

  const input = await customerWrites(shop, stack, 'Where is my refund for order #5150?');
  const offer = agent.locator('.offer');
  await offer.waitFor();
  await offer.locator('button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("order #5150")');
  await agent.fill('#input', 'The refund went out yesterday; it shows in 3 to 5 days.');
  await agent.press('#input', 'Enter');
  await shop.waitForSelector('exceed-chat >> .msg.theirs:has-text("refund went out")');
  const convId = await shop.evaluate(() => window.__exceedWidget.state.conversationId);

  await agent.click('#resolve');
  await agent.waitForSelector('#chat-banner:has-text("resolved")');
  await shop.waitForSelector('exceed-chat >> .csat-form');
  await shop.locator('exceed-chat >> .stars label').nth(2).click();
  await shop.locator('exceed-chat >> .expect label:has-text("Met")').click();
  await shop.locator('exceed-chat >> .csat-form button[type=submit]').click();
  await shop.waitForSelector('exceed-chat >> .thanks');

  // The dashboard shows it, with its reasons and what would have exceeded.
  const item = dash.locator(`#review li.review-item[data-conversation-id="${convId}"]`);
  await item.waitFor({ timeout: 15000 });
  assert.match(await item.locator('.tag').first().textContent(), /met/);
  assert.ok(await item.locator('.reasons li').count() >= 1, 'at least one reason');
  assert.ok((await item.locator('.reasons').textContent()).trim().length > 0);
  await item.locator('h3:has-text("What would have exceeded")').waitFor();

  // The demo shop's page names the stage (after a purchase): the item says
  // so, the list narrows by stage, and the table by stage counts the chat.
  assert.equal((await item.locator('.tag.stage').textContent()).trim(), 'After purchase');
  await dash.selectOption('#review-stage', 'pre_purchase');
  await item.waitFor({ state: 'detached' });
  await dash.waitForSelector('#review-empty:not([hidden])');
  await dash.selectOption('#review-stage', 'post_purchase');
  await item.waitFor();
  await dash.click('#stages-refresh');
  const after = dash.locator('#stages-rows tr[data-stage="post_purchase"]');
  await dash.waitForFunction(() => document.querySelector('#stages-rows tr[data-stage="post_purchase"] td')?.textContent === '1');
  const cells = await after.locator('td').allTextContents();
  assert.deepEqual(cells.slice(0, 5), ['1', '0%', '100%', '0%', '—']);  // one day: no spread yet
  assert.match(cells[5], /^\d+ s$/);  // the agent answered within the minute
  assert.equal(await dash.locator('#stages-rows tr[data-stage="pre_purchase"] td').first().textContent(), '0');
  await screenshot(dash, 'dashboard-stages');

  // The transcript opens in a dialog.
  await item.locator('button:has-text("Transcript")').click();
  await dash.waitForSelector('#transcript[open] .tmsg.customer:has-text("order #5150")');
  await dash.waitForSelector('#transcript .tmsg.agent:has-text("refund went out")');
  await screenshot(dash, 'dashboard-review-transcript');
  await dash.click('#transcript-close');
  await dash.waitForSelector('#transcript:not([open])', { state: 'attached' });
  await screenshot(dash, 'dashboard-review');

  // Marked reviewed with a note: it leaves the list.
  await item.locator('input.review-note').fill('Offer the tracking link for refunds next time');
  await item.locator('button:has-text("Mark reviewed")').click();
  await item.waitFor({ state: 'detached' });
  await dash.waitForSelector('#review-empty:not([hidden])');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
});
