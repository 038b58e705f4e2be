// (f) The console shows the server's SLA timer for the selected chat (amber on
// the warning, red at the breach, gone once the agent replies), and an agent's
// follow-up falls due with an alert and can be marked done.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Stack, customerWrites, agentLogin, goOnline, screenshot, watchPage } from './lib/harness.mjs';

// A short first-response target so the warning and the breach come within seconds.
const cfgDir = mkdtempSync(path.join(tmpdir(), 'exceed-e2e-cfg-'));
writeFileSync(path.join(cfgDir, 'exceed.toml'), '[sla.default]\nfirst_response_s = 4\nwarning_ratio = 0.5\n');
const stack = new Stack({ env: { EXCEED_CONFIG: path.join(cfgDir, 'exceed.toml') } });
const errors = [];
let browser;

before(async () => {
  await stack.start();
  await stack.addUser('ann', 'agent', 'Ann Agent', ['--teams', 'support']);
  browser = await stack.launchBrowser();
});
after(async () => {
  if (errors.length) console.log(errors.join('\n'));
  await stack.stop();
  rmSync(cfgDir, { recursive: true, force: true });
});

test('SLA timer from the server, and a follow-up that falls due', async () => {
  const shop = await (await browser.newContext()).newPage();
  const agent = await (await browser.newContext({ viewport: { width: 1360, height: 820 } })).newPage();
  watchPage(shop, 'shop', errors);
  watchPage(agent, 'console', errors);

  await agentLogin(agent, stack, 'ann');
  await goOnline(agent);
  const input = await customerWrites(shop, stack, 'Can I still change the size of my order?');
  const offer = agent.locator('.offer');
  await offer.waitFor();
  await offer.locator('button:has-text("Accept")').click();
  await agent.waitForSelector('.msg.customer:has-text("change the size")');

  // Honest: no timer until the server sends one, then amber, then red.
  await agent.waitForSelector('#sla[data-state="warning"][data-metric="first_response"]', { timeout: 10000 });
  assert.match(await agent.textContent('#sla'), /First response/);
  assert.match(await agent.textContent('#sla'), /\d+:\d\d left|Due now/);
  await agent.waitForSelector('#sla[data-state="breached"]', { timeout: 10000 });
  assert.match(await agent.textContent('#sla'), /Breached/);
  await screenshot(agent, 'console-sla');
  await agent.fill('#input', 'Sorry for the wait: yes, which size would you like?');
  await agent.press('#input', 'Enter');
  await agent.waitForSelector('#sla[data-state="none"]');

  // A follow-up due in about two seconds.
  const due = await agent.evaluate(() => {
    const d = new Date(Date.now() + 2500);
    const p = (n) => String(n).padStart(2, '0');
    // Chromium writes a datetime-local value without ':00' seconds, and
    // playwright's fill insists on reading back what it wrote.
    const sec = d.getSeconds() ? `:${p(d.getSeconds())}` : '';
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${sec}`;
  });
  await agent.fill('#fu-due', due);
  await agent.selectOption('#fu-kind', 'callback');
  await agent.fill('#fu-note', 'Call back about the size change');
  await agent.click('#fu-add');
  const item = agent.locator('#fu-list li:has-text("Call back about the size change")');
  await item.waitFor();
  await agent.waitForSelector('.toast:has-text("Follow-up due")', { timeout: 10000 });
  await agent.waitForSelector('#fu-list li.overdue:has-text("Call back about the size change")');
  await screenshot(agent, 'console-followups');
  await item.locator('button:has-text("Done")').click();
  await item.waitFor({ state: 'detached' });
  await agent.waitForSelector('#fu-empty:not([hidden])');

  // The tickets view answers (nothing assigned to Ann yet).
  await agent.click('#tab-tickets');
  await agent.waitForSelector('#tk-empty:not([hidden])');
  await agent.click('#tab-chats');
  await agent.waitForSelector('#chat:not([hidden])');
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::ERR/.test(e)), []);
});
