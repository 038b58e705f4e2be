// (g) The console's Tickets view: list by status, open a ticket, add a private
// note and a public reply, change its status; ticket events refresh the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, agentLogin, screenshot, watchPage } from './lib/harness.mjs';

const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
  ],
});
const { stack, errors } = suite;

async function createTicket(token, body) {
  const r = await fetch(stack.base + '/api/v1/tickets', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token }, body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error('ticket not created: ' + r.status + ' ' + await r.text());
  return r.json();
}

test('agent works a ticket in the console', async () => {
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  watchPage(agent, 'console', errors);
  await agentLogin(agent, stack, 'ann');
  const ann = await stack.login('ann');
  await agent.click('#tab-tickets');
  await agent.waitForSelector('#tk-empty:not([hidden])');

  // A ticket assigned to Ann appears through the ticket.* events.
  const t = await createTicket(ann.token, { subject: 'Invoice address is wrong', team: 'support', assignee_id: stack.users.ann.id,
    comment: { text: 'Customer called: invoice must go to the new office.', public: false } });
  const row = agent.locator(`#tk-items button[data-ticket-id="${t.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Open/);
  await row.click();
  await agent.waitForSelector(`#tk-detail[data-ticket-id="${t.id}"] #tk-subject:has-text("Invoice address is wrong")`);
  await agent.waitForSelector('#tk-comments .msg.note:has-text("new office")');

  await agent.check('input[name=tkmode][value=note]');
  await agent.fill('#tk-text', 'Checked with billing: fixed from next month.');
  await agent.click('#tk-send');
  await agent.waitForSelector('#tk-comments .msg.note:has-text("Checked with billing")');
  await agent.check('input[name=tkmode][value=public]');
  await agent.fill('#tk-text', 'We have updated your invoice address.');
  await agent.click('#tk-send');
  await agent.waitForSelector('#tk-comments .msg.agent:has-text("updated your invoice address")');

  await agent.selectOption('#tk-set-status', 'pending');
  await agent.click('#tk-status-form button[type=submit]');
  await agent.waitForSelector('#tk-meta:has-text("Pending")');
  await agent.selectOption('#tk-status', 'pending');
  await agent.waitForSelector(`#tk-items button[data-ticket-id="${t.id}"]:has-text("Pending")`);
  await screenshot(agent, 'console-tickets');
  await agent.selectOption('#tk-status', 'open');
  await agent.waitForSelector(`#tk-items button[data-ticket-id="${t.id}"]`, { state: 'detached' });
  const stored = await stack.get('/api/v1/tickets/' + t.id, ann.token);
  assert.equal(stored.status, 'pending');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
});
