// Where a cold load's time goes: one traced load of `/` in a fresh context; main-thread
// events of the renderer from navigation to first contentful paint, longest first, and the
// marks in between. Usage: node bench/trace-load.mjs [DIST]
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve, root, launch } from './server.mjs';

const dist = path.resolve(process.argv[2] || path.join(root, 'bench', 'dist'));
const { server, base } = await serve({ dist });
const browser = await launch(chromium);
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'loading', 'v8.wasm'] });
await page.goto(base);
await page.waitForSelector('[data-testid="dense-diagram"]');
await page.waitForTimeout(300);
const trace = JSON.parse((await browser.stopTracing()).toString());
await browser.close();
server.close();
const ev = trace.traceEvents || trace;
const nav = ev.find((e) => e.name === 'navigationStart' || e.name === 'NavigationStart' || e.name === 'markAsMainFrame');
const fcp = ev.find((e) => e.name === 'firstContentfulPaint');
const t0 = (ev.find((e) => e.name === 'navigationStart') || nav || ev[0]).ts;
const main = ev.find((e) => e.name === 'TracingStartedInBrowser') ? null : null;
const rows = ev.filter((e) => e.ph === 'X' && e.dur > 2000 && e.ts >= t0 && (!fcp || e.ts <= fcp.ts + 1))
  .map((e) => [((e.ts - t0) / 1000).toFixed(1), (e.dur / 1000).toFixed(1), e.name, e.tid, JSON.stringify(e.args?.data?.url || e.args?.data?.functionName || '').slice(0, 60)]);
console.log(`FCP at ${fcp ? ((fcp.ts - t0) / 1000).toFixed(1) : '?'} ms after navigationStart`);
for (const r of rows) console.log(r.join('  '));
for (const e of ev.filter((e) => e.ph === 'I' || e.ph === 'R' || e.ph === 'n')) {
  if (/Trunk|flatland|firstPaint|firstContentful|domContentLoaded|loadEvent/i.test(e.name)) console.log('mark', ((e.ts - t0) / 1000).toFixed(1), e.name);
}
