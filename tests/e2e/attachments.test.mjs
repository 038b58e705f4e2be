// Attachments in the browsers: a customer sends a screenshot from the
// widget and the agent sees it as a thumbnail in the console; an agent
// attaches a PDF to a ticket reply and it is offered as a download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useStack, customerWrites, agentLogin, goOnline, screenshot, watchPage } from './lib/harness.mjs';

const dir = await mkdtemp(path.join(tmpdir(), 'exceed-e2e-attachments-'));
const suite = useStack({
  env: { EXCEED_ATTACHMENTS_DIR: dir },
  users: [['ann', 'agent', 'Ann Agent', ['--teams', 'support']]],
});
const { stack, errors } = suite;

// A real 40x30 PNG: a red square on white, drawn in a canvas.
async function pngBytes(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 40;
    c.height = 30;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 40, 30);
    g.fillStyle = '#d00';
    g.fillRect(10, 5, 20, 20);
    return c.toDataURL('image/png').split(',')[1];
  });
  return Buffer.from(b64, 'base64');
}

const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
  + '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

test('a customer sends a screenshot from the widget and the agent sees the thumbnail', async () => {
  const shop = await (await suite.browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  watchPage(shop, 'shop', errors);
  watchPage(agent, 'console', errors);
  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  await customerWrites(shop, stack, 'The checkout page shows an error, see my screenshot.');
  await agent.locator('.offer button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("checkout page")');

  const png = await pngBytes(shop);
  await shop.setInputFiles('exceed-chat >> #xc-file', { name: 'checkout-error.png', mimeType: 'image/png', buffer: png });
  // The customer sees their own thumbnail once it is stored...
  const own = shop.locator('exceed-chat >> .msg.mine img.thumb[alt="Picture: checkout-error.png"]');
  await own.waitFor();
  await shop.waitForFunction(() => {
    const img = document.querySelector('exceed-chat').shadowRoot.querySelector('.msg.mine img.thumb');
    return img && img.complete && img.naturalWidth === 40;
  });
  // ...and the agent gets it with the message, drawn from the stored bytes.
  const thumb = agent.locator('.msg.customer img.thumb[alt="Picture: checkout-error.png"]');
  await thumb.waitFor();
  await agent.waitForFunction(() => {
    const img = document.querySelector('.msg.customer img.thumb');
    return img && img.complete && img.naturalWidth === 40 && img.naturalHeight === 30;
  });
  const box = await thumb.boundingBox();
  assert.ok(box.width <= 200 && box.height <= 150, 'shown as a thumbnail');
  await screenshot(agent, 'console-attachment-thumbnail');

  // A program in disguise is refused in the widget, with the reason.
  await shop.setInputFiles('exceed-chat >> #xc-file', { name: 'invoice.pdf', mimeType: 'application/pdf',
    buffer: Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), pdf]) });
  await shop.waitForSelector('exceed-chat >> .err:has-text("a Windows program")');
  // The browser logs that refused upload (400): expected, and only that.
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR|status of 400/.test(e)), []);
  errors.length = 0;
});

test('an agent attaches a PDF to a ticket reply; it is a download', async () => {
  const agent = await (await suite.browser.newContext({ viewport: { width: 1360, height: 820 }, acceptDownloads: true })).newPage();
  watchPage(agent, 'console', errors);
  await agentLogin(agent, stack, 'ann');
  const ann = await stack.login('ann');
  const r = await fetch(stack.base + '/api/v1/tickets', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + ann.token },
    body: JSON.stringify({ subject: 'Send me the invoice again', team: 'support', assignee_id: stack.users.ann.id }),
  });
  assert.equal(r.status, 201);
  const t = await r.json();
  await agent.click('#tab-tickets');
  await agent.locator(`#tk-items button[data-ticket-id="${t.id}"]`).click();
  await agent.waitForSelector(`#tk-detail[data-ticket-id="${t.id}"]`);
  await agent.fill('#tk-text', 'Here is your invoice again.');
  await agent.setInputFiles('#tk-file', { name: 'invoice-4411.pdf', mimeType: 'application/pdf', buffer: pdf });
  await agent.click('#tk-send');
  const link = agent.locator('#tk-comments .msg.agent a.download:has-text("Download invoice-4411.pdf")');
  await link.waitFor();
  const [download] = await Promise.all([agent.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'invoice-4411.pdf');
  const saved = await download.path();
  const { readFile } = await import('node:fs/promises');
  assert.deepEqual(await readFile(saved), pdf);
  // The stored comment carries it, served as a download.
  const comments = await stack.get(`/api/v1/tickets/${t.id}/comments`, ann.token);
  const att = comments.items.at(-1).attachment;
  assert.equal(att.content_type, 'application/pdf');
  const res = await fetch(stack.base + att.url, { headers: { Authorization: 'Bearer ' + ann.token } });
  assert.match(res.headers.get('content-disposition'), /^attachment; filename="invoice-4411.pdf"/);
  await screenshot(agent, 'console-ticket-pdf');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
});
