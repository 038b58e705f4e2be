// Shared set-up for the browser tests: a real redis-server, the real exceed
// binary serving web/, users made with `exceed user add`, and Debian's
// chromium driven by playwright-core. Everything is torn down at the end,
// and no child outlives this process however it ends (see startChild).
import { before, after } from 'node:test';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir, copyFile, readFile } from 'node:fs/promises';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO = path.resolve(E2E_DIR, '..', '..');
export const EXCEED_BIN = process.env.EXCEED_BIN || '/work/build/bin/exceed';
export const WEB_ROOT = process.env.EXCEED_WEB_ROOT || path.join(REPO, 'web');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');
export const CHROMIUM = process.env.EXCEED_CHROMIUM || '/usr/bin/chromium';
export const PASSWORD = 'password123';
// How long a page action or wait may take unless the test gives its own
// timeout: Playwright's default is 30 s; a failing test should fail sooner.
export const WAIT_MS = Number(process.env.EXCEED_E2E_WAIT_MS) || 15000;

// True when `version` (e.g. "18.20.4") meets an npm engines range made of
// ">=X[.Y[.Z]]" terms, the only form playwright-core uses.
export function meetsEngines(version, range) {
  const parts = (v) => v.replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0);
  const have = parts(version);
  return range.split(/\s+/).filter(Boolean).every((term) => {
    const m = /^>=\s*(\S+)$/.exec(term);
    if (!m) return true;
    const want = parts(m[1]);
    for (let i = 0; i < 3; i++) if ((have[i] || 0) !== (want[i] || 0)) return (have[i] || 0) > (want[i] || 0);
    return true;
  });
}

export async function loadPlaywright() {
  const require = createRequire(import.meta.url);
  let manifest;
  try {
    manifest = require.resolve('playwright-core/package.json', { paths: [E2E_DIR] });
  } catch {
    throw new Error('playwright-core is not installed in tests/e2e/node_modules: run scripts/setup (or `npm ci` in tests/e2e)');
  }
  // A playwright-core too new for this Node calls process.exit() as it loads:
  // say so here, as a test failure, instead.
  const { version, engines = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
  if (engines.node && !meetsEngines(process.versions.node, engines.node)) {
    throw new Error(`playwright-core ${version} needs Node ${engines.node}, this is Node ${process.versions.node} ` +
      `(${process.execPath}): run scripts/setup, which checks both`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (scripts/setup does)`);
  return import('playwright-core');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// ---------------------------------------------------------------------------
// Children: redis-server and exceed serve.
//
// No child may outlive this process or hold the test runner's output, or
// `node --test` waits for it until ctest's timeout. So every child:
// - writes to a log file, never to an inherited stdout/stderr;
// - runs in its own process group (detached), which the exit handler below
//   kills on every orderly exit, process.exit() from a library included;
// - is started through `setpriv --pdeathsig KILL` (util-linux), so the
//   kernel kills it when this process dies any other way (SIGKILL, a crash);
// - goes on SIGINT, SIGTERM or SIGHUP, after which the signal is re-raised.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const children = new Set();

function killGroup(child, signal) {
  if (!running(child)) return;
  try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch { /* gone */ } }
}

function killAllChildren() {
  for (const c of children) killGroup(c, 'SIGKILL');
}

process.on('exit', killAllChildren);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => { killAllChildren(); process.kill(process.pid, sig); });
}

// Starts `cmd args` as described above, stdout and stderr appended to `logFile`.
export function startChild(cmd, args, { env = process.env, logFile }) {
  const fd = openSync(logFile, 'a');
  let child;
  try {
    const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
    child = spawn(file, argv, { env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);  // the child has its own copy
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));  // could not start: waitFor reports it
  return child;
}

// A child that could not start has no pid and never runs.
function running(child) {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

async function logTail(file) {
  try { return (await readFile(file, 'utf8')).slice(-3000); } catch { return ''; }
}

function run(cmd, args, { env, input } = {}) {
  return new Promise((resolve, reject) => {
    const p = execFile(cmd, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input != null) p.stdin.end(input);
  });
}

// Polls `fn` until it returns true. With `child`, gives up at once when the
// child exits, with the tail of its `logFile`.
async function waitFor(what, fn, { timeoutMs = 15000, child, logFile } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    if (child && !running(child)) throw new Error(`${what}: the process exited (${child.exitCode ?? child.signalCode}): ${await logTail(logFile)}`);
    try { if (await fn()) return; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

function exited(child) {
  return new Promise((resolve) => {
    if (!running(child)) resolve();
    else child.once('exit', () => resolve());
  });
}

export class Stack {
  // env: extra EXCEED_* settings for the server.
  constructor({ env = {} } = {}) {
    this.env = env;
  }

  async start() {
    if (!existsSync(EXCEED_BIN)) throw new Error(`server binary not found at ${EXCEED_BIN} (set EXCEED_BIN)`);
    this.dir = await mkdtemp(path.join(tmpdir(), 'exceed-e2e-'));
    this.redisPort = await freePort();
    this.redisUrl = `redis://127.0.0.1:${this.redisPort}`;
    const redisLog = path.join(this.dir, 'redis.log');
    this.redis = startChild('redis-server', ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', this.dir,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { logFile: redisLog });
    await waitFor('redis-server', () => new Promise((resolve) => {
      const s = net.connect(this.redisPort, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    }), { child: this.redis, logFile: redisLog });
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.users = {};
    await this.startServer();
    return this;
  }

  async addUser(username, role, name, extra = []) {
    const out = await run(EXCEED_BIN, ['user', 'add', username, '--role', role, '--name', name, ...extra, '--redis', this.redisUrl],
      { env: { EXCEED_AUTH_PASSWORD_ITERATIONS: '1000' }, input: PASSWORD + '\n' });
    const m = /\(([^)]+)\)/.exec(out);
    this.users[username] = { username, id: m ? m[1] : null, name };
    return this.users[username];
  }

  async startServer() {
    this.server = startChild(EXCEED_BIN, ['serve', '--redis', this.redisUrl, '--listen', `127.0.0.1:${this.port}`], {
      env: {
        ...process.env,
        EXCEED_AUTH_TOKEN_SECRET: 'e2e-secret-0123456789abcdef',
        EXCEED_SERVER_WEB_ROOT: WEB_ROOT,
        ...this.env,
      },
      logFile: path.join(this.dir, 'server.log'),
    });
    await waitFor('server /healthz', async () => (await fetch(this.base + '/healthz')).ok,
      { child: this.server, logFile: path.join(this.dir, 'server.log') });
  }

  async killServer() {
    const child = this.server;
    killGroup(child, 'SIGKILL');
    await exited(child);
  }

  async login(username) {
    const r = await fetch(this.base + '/api/v1/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
    });
    if (!r.ok) throw new Error('login failed: ' + r.status);
    return r.json();
  }

  async get(pathname, token) {
    const r = await fetch(this.base + pathname, { headers: { Authorization: 'Bearer ' + token } });
    if (!r.ok) throw new Error(`GET ${pathname}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  async launchBrowser() {
    const { chromium } = await loadPlaywright();
    // chromium.launch gives every browser a fresh, empty --user-data-dir of its
    // own (a mkdtemp it deletes on close); it refuses the flag in args.
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    // Playwright has no browser-wide default timeout: each new context gets WAIT_MS.
    const newContext = this.browser.newContext.bind(this.browser);
    this.browser.newContext = async (options) => {
      const context = await newContext(options);
      context.setDefaultTimeout(WAIT_MS);
      return context;
    };
    return this.browser;
  }

  async stop() {
    try { if (this.browser) await this.browser.close(); } catch { /* already gone */ }
    // The server first, so its last Redis writes meet a live Redis; SIGKILL
    // after 5 s, then wait for the exit whatever happens.
    for (const c of [this.server, this.redis]) {
      if (!c || !running(c)) continue;
      killGroup(c, 'SIGTERM');
      const grace = setTimeout(() => killGroup(c, 'SIGKILL'), 5000);
      await exited(c);
      clearTimeout(grace);
    }
    if (this.dir && !process.env.EXCEED_E2E_KEEP) await rm(this.dir, { recursive: true, force: true });
  }
}

// Collects console errors and failed requests of a page, so a test failure says why.
export function watchPage(page, label, sink) {
  page.on('pageerror', (e) => sink.push(`[${label}] page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') sink.push(`[${label}] console: ${m.text()}`); });
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + '.png');
  await page.screenshot({ path: file });
  // The README's pictures are refreshed only on request, so a test run leaves the tree clean.
  if (process.env.EXCEED_E2E_UPDATE_DOCS) {
    const docs = path.join(REPO, 'docs', 'screenshots');
    await mkdir(docs, { recursive: true });
    await copyFile(file, path.join(docs, name + '.png'));
  }
  return file;
}

// The hooks of one test file: a fresh Redis and server (extra EXCEED_*
// settings in `env`, users added as [username, role, name, extra args]) and
// one browser, all torn down at the end. Returns { stack, errors, browser }.
export function useStack({ env = {}, users = [] } = {}) {
  const ctx = { stack: new Stack({ env }), errors: [], browser: null };
  before(async () => {
    await ctx.stack.start();
    for (const u of users) await ctx.stack.addUser(...u);
    ctx.browser = await ctx.stack.launchBrowser();
  });
  after(async () => {
    if (ctx.errors.length) console.log(ctx.errors.join('\n'));
    await ctx.stack.stop();
  });
  return ctx;
}

export async function dashboardLogin(page, stack, username) {
  await page.goto(stack.base + '/dashboard/');
  await page.fill('#login-form input[name=username]', username);
  await page.fill('#login-form input[name=password]', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#conn[data-state="online"]');
}

// A customer opens the widget on the demo shop and sends `text`; returns the
// widget's input for what they write next.
export async function customerWrites(shop, stack, text) {
  await shop.goto(stack.base + '/demo/shop.html');
  await shop.click('exceed-chat >> .launcher');
  const input = shop.locator('exceed-chat >> #xc-input');
  await input.waitFor();
  await input.fill(text);
  await input.press('Enter');
  return input;
}

export async function agentLogin(page, stack, username) {
  await page.goto(stack.base + '/console/');
  await page.fill('#login-form input[name=username]', username);
  await page.fill('#login-form input[name=password]', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#conn[data-state="online"]');
}

export async function goOnline(page) {
  await page.selectOption('#status', 'online');
  // The ack sets the select to the effective status.
  await page.waitForFunction(() => document.querySelector('#status').value === 'online');
}
