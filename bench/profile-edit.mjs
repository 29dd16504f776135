// Where an edit's time goes: N `units` edits on a 50-layer stack (as in bench/browser.mjs),
// under Chrome's sampling profiler (self time per JS / wasm function) and the timeline trace
// (script vs. style vs. layout vs. paint). Function names need a build with a name section:
// bench/run builds one (bench/dist-prof, wasm-opt -Oz -g) for this.
// Usage: node bench/profile-edit.mjs [DIST] [EDITS] [LAYERS]
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve, root, openStack, launch } from './server.mjs';

const dist = path.resolve(process.argv[2] || path.join(root, 'bench', 'dist-prof'));
const EDITS = Number(process.argv[3] || 20);
const LAYERS = Number(process.argv[4] || 50);

const { server, base } = await serve({ dist });
const browser = await launch(chromium);
const { context, page } = await openStack(browser, base, LAYERS);
await page.waitForTimeout(500);

const cdp = await context.newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
await cdp.send('Profiler.start');
const wall = await page.evaluate(async (n) => {
  const input = document.querySelector('[data-testid="field-units"]');
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const t = [];
  for (let i = 0; i < n; i++) {
    await frame();
    const t0 = performance.now();
    input.value = String(33 + (i % 60));
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await frame();
    await new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = r; c.port2.postMessage(0); });
    t.push(performance.now() - t0);
    await new Promise((r) => requestIdleCallback(r, { timeout: 500 }));
  }
  return t;
}, EDITS);
const { profile } = await cdp.send('Profiler.stop');
const trace = JSON.parse((await browser.stopTracing()).toString());
await browser.close();
server.close();

// Self time per function.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
profile.samples.forEach((id, i) => {
  const n = byId.get(id);
  const f = n.callFrame;
  const key = f.functionName || (f.url ? `(anonymous ${path.basename(f.url)}:${f.lineNumber})` : '(native)');
  self.set(key, (self.get(key) || 0) + (dt[i + 1] || 0) / 1000);
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idleKeys = new Set(['(idle)', '(program)', '(garbage collector)']);
console.log(`${EDITS} edits, ${LAYERS} layers; edit → frame rendered, median ${wall.sort((a, b) => a - b)[wall.length >> 1].toFixed(1)} ms`);
console.log(`\nsampled self time (ms over all edits; (program) = browser native work incl. style/layout):`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  console.log(`${v.toFixed(1).padStart(9)}  ${(100 * v / total).toFixed(1).padStart(5)}%  ${k.slice(0, 150)}`);
}

// Timeline: main-thread time per event kind (top-level durations, renderer main thread).
const events = trace.traceEvents || trace;
const kinds = ['FunctionCall', 'EventDispatch', 'RunMicrotasks', 'UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize',
  'UpdateLayerTree', 'CompositeLayers', 'HitTest', 'ParseHTML', 'MajorGC', 'MinorGC', 'V8.GC_SCAVENGER', 'FireAnimationFrame', 'TimerFire', 'v8.compile'];
const sum = {};
for (const e of events) {
  if (e.ph !== 'X' || !kinds.includes(e.name)) continue;
  sum[e.name] = (sum[e.name] || 0) + e.dur / 1000;
}
console.log(`\ntimeline totals over ${EDITS} edits (ms; nested events overlap):`);
for (const [k, v] of Object.entries(sum).sort((a, b) => b[1] - a[1])) console.log(`${v.toFixed(1).padStart(9)}  ${k}`);
