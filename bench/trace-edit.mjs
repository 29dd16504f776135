// Where one edit's first frame goes: N `units` edits on a 50-layer stack (as in
// bench/browser.mjs), each at the start of a frame, traced; for every edit the main-thread
// events from the edit to the end of that frame's paint, summed by kind (median over edits).
// Usage: node bench/trace-edit.mjs [DIST] [EDITS] [LAYERS]
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve, root, openStack, launch } from './server.mjs';

const dist = path.resolve(process.argv[2] || path.join(root, 'bench', 'dist'));
const EDITS = Number(process.argv[3] || 20);
const LAYERS = Number(process.argv[4] || 50);
const { server, base } = await serve({ dist });
const browser = await launch(chromium);
// What-if CSS (env CSS), added once the page has loaded.
const { context, page } = await openStack(browser, base, LAYERS, { css: process.env.CSS });
await page.waitForTimeout(500);
const cdp = await context.newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
await cdp.send('Profiler.start');
await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] });
await page.evaluate(async (n) => {
  const input = document.querySelector('[data-testid="field-units"]');
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < n; i++) {
    await frame();
    await new Promise((resolve) => requestAnimationFrame(() => {
      performance.mark('edit:start');
      input.value = String(33 + (i % 60));
      input.dispatchEvent(new Event('input', { bubbles: true }));
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { performance.mark('edit:frame'); resolve(); };
      ch.port2.postMessage(0);
    }));
    await new Promise((r) => requestIdleCallback(r, { timeout: 500 }));
  }
}, EDITS);
const trace = JSON.parse((await browser.stopTracing()).toString());
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
server.close();
const ev = trace.traceEvents || trace;
const starts = ev.filter((e) => e.name === 'edit:start').map((e) => e.ts).sort((a, b) => a - b);
const ends = ev.filter((e) => e.name === 'edit:frame').map((e) => e.ts).sort((a, b) => a - b);
const main = ev.find((e) => e.name === 'edit:start');
const kinds = ['FunctionCall', 'RunMicrotasks', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'UpdateLayer', 'Commit', 'HitTest', 'IntersectionObserverController::computeIntersections', 'MajorGC', 'MinorGC', 'ScheduleStyleRecalculation', 'InvalidateLayout', 'ParseAuthorStyleSheet'];
const per = {};
const totals = [];
for (let i = 0; i < Math.min(starts.length, ends.length); i++) {
  const [a, b] = [starts[i], ends[i]];
  totals.push((b - a) / 1000);
  const sums = {};
  for (const e of ev) {
    if (e.ph !== 'X' || e.tid !== main.tid || e.ts < a || e.ts > b) continue;
    sums[e.name] = (sums[e.name] || 0) + e.dur / 1000;
  }
  for (const [k, v] of Object.entries(sums)) (per[k] ||= []).push(v);
}
if (process.env.PAINTS) {
  const [a, b] = [starts[2], ends[2]];
  for (const e of ev) {
    if (e.ph === 'X' && e.tid === main.tid && e.ts >= a && e.ts <= b && ['Paint', 'Layout', 'PrePaint', 'UpdateLayoutTree'].includes(e.name)) {
      console.log(e.name, (e.dur / 1000).toFixed(3), JSON.stringify(e.args).slice(0, 400));
    }
  }
}
const med = (xs) => { const v = [...xs].sort((x, y) => x - y); return v[v.length >> 1]; };
console.log(`${totals.length} edits: edit → frame painted, median ${med(totals).toFixed(2)} ms`);
for (const [k, v] of Object.entries(per).sort((x, y) => med(y[1]) - med(x[1])).slice(0, 25)) {
  console.log(`${med(v).toFixed(3).padStart(9)} ms  (in ${v.length})  ${k}${kinds.includes(k) ? '' : ''}`);
}

// Sampled self time inside the first-frame windows (the profiler and the trace share a clock).
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i];
  const inWin = starts.some((a, j) => t >= a && t <= ends[j]);
  if (!inWin) return;
  const f = byId.get(id).callFrame;
  const key = f.functionName || (f.url ? `(anonymous ${path.basename(f.url)}:${f.lineNumber})` : '(native)');
  self.set(key, (self.get(key) || 0) + (profile.timeDeltas[i + 1] || 0) / 1000);
});
console.log(`\nsampled self time in those windows (ms per edit):`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP || 30))) {
  console.log(`${(v / totals.length).toFixed(3).padStart(9)}  ${k.slice(0, 140)}`);
}
