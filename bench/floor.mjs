// The harness floor: the same "edit at frame start → frame rendered" measurement as
// bench/browser.mjs on a trivial page (one text node changes), in the same browser setup.
// What the app adds is the difference. Usage: node bench/floor.mjs [EDITS]
import http from 'node:http';
import { chromium } from 'playwright-core';
import { launch } from './server.mjs';

const EDITS = Number(process.argv[2] || 100);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><body><p id=t>0</p></body></html>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await launch(chromium);
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
const times = await page.evaluate(async (n) => {
  const t = document.getElementById('t');
  const out = [];
  for (let i = 0; i < n; i++) {
    await new Promise((r) => requestAnimationFrame(r));
    out.push(await new Promise((resolve) => requestAnimationFrame(() => {
      const t0 = performance.now();
      t.textContent = String(i);
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve(performance.now() - t0);
      ch.port2.postMessage(0);
    })));
    await new Promise((r) => requestIdleCallback(r, { timeout: 500 }));
  }
  return out.sort((a, b) => a - b);
}, EDITS);
await browser.close();
server.close();
console.log(`trivial page: edit at frame start → frame rendered, median ${times[times.length >> 1].toFixed(2)} ms, p90 ${times[Math.floor(times.length * 0.9)].toFixed(2)} ms (${EDITS} edits)`);
