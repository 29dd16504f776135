// End-to-end suite: serves the release build (dist/) on loopback, drives Debian's Chromium
// with playwright-core, runs every flow in tests/e2e/flows/, saves a screenshot on failure
// (tests/e2e/artifacts/) and the desktop / 375 px screenshots used in the README.
// Usage: node tests/e2e/run.mjs [DIST] [FLOW_FILTER]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(process.argv[2] || 'dist');
const filter = process.argv[3] || '';
const artifacts = path.join(here, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = path.join(dist, decodeURIComponent(url.pathname));
  if (!file.startsWith(dist)) { res.writeHead(403); return res.end(); }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!fs.existsSync(file)) { res.writeHead(404); return res.end('not found'); }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const args = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });

const flowFiles = fs.readdirSync(path.join(here, 'flows')).filter((f) => f.endsWith('.mjs')).sort();
let passed = 0; const failed = [];
for (const f of flowFiles) {
  const mod = await import(path.join(here, 'flows', f));
  for (const flow of mod.flows) {
    const name = `${f.replace('.mjs', '')}: ${flow.name}`;
    if (filter && !name.includes(filter)) continue;
    // A fresh browser context = a fresh profile (empty localStorage), like a new student.
    const context = await browser.newContext({ viewport: flow.viewport || { width: 1280, height: 900 }, hasTouch: !!flow.touch });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base }).catch(() => {});
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    const t0 = Date.now();
    try {
      page.setDefaultTimeout(15000);
      await flow.run(page, { base, artifacts, context, browser });
      const panics = errors.filter((e) => /panicked|RuntimeError|unreachable/.test(e));
      if (panics.length) throw new Error(`page errors: ${panics.join(' | ')}`);
      passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      const shot = path.join(artifacts, `FAIL-${name.replace(/[^a-z0-9]+/gi, '_')}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      failed.push(name);
      console.log(`FAIL ${name}: ${e.message}\n     screenshot: ${shot}`);
      if (errors.length) console.log(`     page errors: ${errors.slice(0, 3).join(' | ')}`);
    }
    await context.close();
  }
}
await browser.close();
server.close();
console.log(`\ne2e: ${passed} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
