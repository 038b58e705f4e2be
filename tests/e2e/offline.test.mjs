// (h) The offline path: nobody of the team is online, so the customer's first
// message becomes a ticket. The widget offers "Leave us a message" (name,
// email, anything to add), by keyboard on a 360 px phone; what they leave goes
// into the ticket, an agent finds it over the REST API, and the agent's
// public reply on the ticket reaches the customer in the widget, also after
// a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, customerWrites, screenshot, watchPage } from './lib/harness.mjs';

// routing.ticket_when_offline is on by default: no online agent -> ticket.
const suite = useStack({
  users: [
    ['ann', 'agent', 'Ann Agent', ['--teams', 'support']],
  ],
});
const { stack, errors } = suite;

test('nobody online: the customer leaves a message and gets the reply', async () => {
  const ctx = await suite.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const shop = await ctx.newPage();
  watchPage(shop, 'shop', errors);
  const widget = shop.locator('exceed-chat');

  await customerWrites(shop, stack, 'My parcel #5521 never arrived.');
  // The server keeps it as a ticket and says so; the widget asks how to reach them.
  await shop.waitForSelector('exceed-chat >> .msg.system:has-text("Nobody from our team is online")');
  const form = widget.locator('.leave-form');
  await form.waitFor();
  assert.equal(await form.getAttribute('aria-labelledby'), 'xc-leave-title');
  assert.match(await widget.locator('#xc-leave-title').textContent(), /Leave us a message/);
  // The chat composer gives way to the form while it is open.
  assert.equal(await widget.locator('.composer').isHidden(), true);
  const { conversationId, ticketId, status } = await shop.evaluate(() => window.__exceedWidget.state);
  assert.equal(status, 'ticket');
  assert.ok(ticketId, 'the widget knows the ticket id');

  // Labelled fields; the shop passes the name (data-name="Dana"), so focus is on the email.
  const name = widget.getByLabel('Your name');
  const email = widget.getByLabel('Your email');
  const extra = widget.getByLabel('Anything to add? (optional)');
  assert.equal(await name.inputValue(), 'Dana');
  assert.equal(await email.evaluate((e) => e.getRootNode().activeElement === e), true, 'focus moves to the first empty field');
  await screenshot(shop, 'widget-leave-message');

  // Keyboard alone: a bad address is refused in words, then corrected.
  await shop.keyboard.type('dana-at-example');
  await shop.keyboard.press('Tab');
  await shop.keyboard.type('The box should have come on Monday.');
  await shop.keyboard.press('Tab');
  await shop.keyboard.press('Enter'); // "Send message"
  await widget.locator('.leave-err:has-text("email address")').waitFor();
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.equal(await email.evaluate((e) => e.getRootNode().activeElement === e), true, 'focus goes back to the bad field');
  await shop.keyboard.press('Control+A');
  await shop.keyboard.type('dana@example.com');
  await shop.keyboard.press('Enter'); // submits the form from the email field
  await widget.locator('.leave-done:has-text("write to you at dana@example.com")').waitFor();
  await widget.locator('.msg.mine[data-seq]:has-text("Email: dana@example.com")').waitFor();
  assert.equal(await widget.locator('.composer').isVisible(), true, 'the customer can keep writing');
  assert.match(await widget.locator('.sub').textContent(), /reply here/);

  // Fits the phone: no horizontal scrolling, the panel inside the viewport.
  const box = await widget.locator('.panel').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 360.5, `panel fits 360 px: ${JSON.stringify(box)}`);
  assert.ok(await shop.evaluate(() => document.documentElement.scrollWidth <= 361));
  await screenshot(shop, 'widget-offline');

  // The agent finds the ticket over the REST API, with the customer's details in it.
  const ann = await stack.login('ann');
  const list = await stack.get('/api/v1/tickets?team=support', ann.token);
  const ticket = list.items.find((t) => t.conversation_id === conversationId);
  assert.ok(ticket, `a ticket for ${conversationId} in ${JSON.stringify(list.items.map((t) => t.id))}`);
  assert.equal(ticket.id, ticketId);
  assert.equal(ticket.via, 'chat');
  assert.match(ticket.subject, /parcel #5521/);
  const comments = await stack.get(`/api/v1/tickets/${ticket.id}/comments`, ann.token);
  const details = comments.items.find((c) => /Email: dana@example\.com/.test(c.text));
  assert.ok(details, 'the name and email reached the ticket: ' + JSON.stringify(comments.items.map((c) => c.text)));
  assert.match(details.text, /Name: Dana/);
  assert.match(details.text, /come on Monday/);

  // The agent's public reply on the ticket shows up in the widget.
  const r = await fetch(`${stack.base}/api/v1/tickets/${ticket.id}/comments`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + ann.token },
    body: JSON.stringify({ text: 'We found your parcel: it arrives tomorrow.', public: true }),
  });
  assert.equal(r.status, 201, await r.text());
  await widget.locator('.msg.theirs:has-text("arrives tomorrow")').waitFor();
  await screenshot(shop, 'widget-offline-reply');

  // A reload continues the same ticket conversation; the form is not asked again.
  await shop.reload();
  await shop.click('exceed-chat >> .launcher');
  await widget.locator('.msg.theirs:has-text("arrives tomorrow")').waitFor();
  await shop.waitForFunction(() => window.__exceedWidget.state.conn === 'online' && window.__exceedWidget.state.status === 'ticket');
  assert.equal(await shop.evaluate(() => window.__exceedWidget.state.conversationId), conversationId);
  assert.equal(await widget.locator('.leave-form').count(), 0);
  assert.equal(await widget.locator('.msg.theirs:has-text("arrives tomorrow")').count(), 1, 'shown once');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
  await ctx.close();
});

test('"Not now" gives the chat composer back, and the form can be opened again', async () => {
  const ctx = await suite.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const shop = await ctx.newPage();
  watchPage(shop, 'shop 2', errors);
  const widget = shop.locator('exceed-chat');
  await customerWrites(shop, stack, 'Do you sell gift cards?');
  await widget.locator('.leave-form').waitFor();
  await widget.getByRole('button', { name: 'Not now' }).focus();
  await shop.keyboard.press('Enter');
  const input = widget.locator('#xc-input');
  await input.waitFor();
  assert.equal(await input.evaluate((e) => e.getRootNode().activeElement === e), true, 'focus back in the composer');
  assert.equal(await widget.locator('.leave-form').count(), 0);
  // Writing on goes into the ticket as before.
  await input.fill('Ideally for 50 euros.');
  await input.press('Enter');
  await widget.locator('.msg.mine[data-seq]:has-text("50 euros")').waitFor();
  const again = widget.getByRole('button', { name: 'leave your name and email' });
  await again.focus();
  await shop.keyboard.press('Enter');
  await widget.locator('.leave-form').waitFor();
  assert.equal(await widget.getByLabel('Your email').evaluate((e) => e.getRootNode().activeElement === e), true);
  const ann = await stack.login('ann');
  const { conversationId } = await shop.evaluate(() => window.__exceedWidget.state);
  const list = await stack.get('/api/v1/tickets?team=support', ann.token);
  const ticket = list.items.find((t) => t.conversation_id === conversationId);
  assert.ok(ticket, 'the chat became a ticket');
  const comments = await stack.get(`/api/v1/tickets/${ticket.id}/comments`, ann.token);
  assert.ok(comments.items.some((c) => /50 euros/.test(c.text)), 'the later message is a public reply on the ticket');
  await ctx.close();
});
