// Browser benchmarks (see BENCHMARKS.md): headless Debian Chromium driven by playwright-core,
// a release build served on loopback by bench/server.mjs. All figures come from one run:
//   1. edit → repaint: 100 edits of `units` of the first Dense of a 50-layer stack
//   2. cold load to interactive: navigation start → first layer card (fresh context, ×LOADS)
//   3. gzip transfer size of the build
//   4. forward / build: Flatland WASM vs TensorFlow.js CPU and WASM (bench/page.js)
//   5. the same Flatland figures from a build without SIMD (bench/dist-plain, -simd128), when
//      it exists; the shipped build has +simd128 (.cargo/config.toml)
//   6. one training step, MNIST CNN and MLP, batch 32: Flatland's tools module vs TensorFlow.js
//      CPU and WASM (bench/train.js)
// Usage: node bench/browser.mjs [--dist DIR] [--plain DIR] [--edits N] [--loads N] [--rounds N]
//                               [--only edit,load,page,simd,train] [--layers N] [--css 'CSS RULES']
//                               [--batch N] [--shim 0|1] (train)
// --layers: size of the stack edited in the edit benchmark (default 50, the first N layers of
// tests/fixtures/bench/stack100.json).
// --css adds a stylesheet to the page during the edit benchmark, for what-if experiments, e.g.
// `.visuals-area { display: none }` (the app still renders it; the browser skips its style and
// layout) or `.vz-card { content-visibility: auto }`.
// Prints a table and writes bench/results/browser-<time>.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { serve, moduleName, root, openStack, launch } from './server.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const dist = path.resolve(arg('dist', path.join(root, 'bench', 'dist')));
const plainDist = path.resolve(arg('plain', path.join(root, 'bench', 'dist-plain')));
const EDITS = Number(arg('edits', 100));
const LAYERS = Number(arg('layers', 50));
const LOADS = Number(arg('loads', 10));
const ROUNDS = Number(arg('rounds', 10));
const ONLY = arg('only', 'edit,load,page,simd,train').split(',');
const BATCH = Number(arg('batch', 32));
const SHIM = arg('shim', '1'); // train: 0 = TF.js WASM without the Conv2DBackpropFilter shim (bench/train.js)
const CSS = arg('css', '');
const hasPlain = ONLY.includes('simd') && fs.existsSync(path.join(plainDist, 'index.html'));

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = v.length;
  if (!n) return NaN;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};
const pct = (xs, p) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

const { server, base } = await serve({ dist, plain: plainDist });
const browser = await launch(chromium);
const git = (c) => { try { return execSync(`git ${c}`, { cwd: root }).toString().trim(); } catch { return '?'; } };
const results = {
  date: new Date().toISOString(), chromium: browser.version(), node: process.version, load_start: load(), dist,
  commit: git('rev-parse --short HEAD'), dirty: git('status --porcelain --untracked-files=no -- src Cargo.toml index.html static') !== '',
};

// ---------------------------------------------------------------- 3. size
// What a cold load fetches: index.html and the files it names (as scripts/size-budget);
// the rest (the tools worker, loaded when the Code panel needs it) is counted apart.
function sizes(d) {
  // The tools worker's loader is named only by a <meta> read when the worker starts.
  const index = fs.readFileSync(path.join(d, 'index.html'), 'utf8').replace(/flatland-tools(-[0-9a-f]+)?_loader\.js/g, '');
  const out = { raw: 0, gzip: 0, brotli: 0, lazy: { raw: 0, gzip: 0, brotli: 0 } };
  for (const f of fs.readdirSync(d)) {
    const p = path.join(d, f);
    if (!fs.statSync(p).isFile()) continue;
    const b = fs.readFileSync(p);
    const to = f === 'index.html' || index.includes(f) ? out : out.lazy;
    to.raw += b.length;
    to.gzip += execSync(`gzip -9 -c '${p}'`, { maxBuffer: 1 << 28 }).length; // as scripts/size-budget
    to.brotli += zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return out;
}
results.size = sizes(dist);

// ---------------------------------------------------------------- 1. edit → repaint
if (ONLY.includes('edit')) {
  const errors = [];
  const { context, page } = await openStack(browser, base, LAYERS, { css: CSS, onPage: (p) => p.on('pageerror', (e) => errors.push(String(e))) });
  results.edit = await page.evaluate(async (n) => {
    const input = document.querySelector('[data-testid="field-units"]');
    const total = document.querySelector('[data-testid="total-params"]');
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    // A task posted from a rAF callback runs once that frame's rendering (style, layout,
    // paint on the main thread) is done: a "post animation frame" timestamp.
    const afterFrame = () => new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => r(performance.now());
      ch.port2.postMessage(0);
    });
    const idle = () => new Promise((r) => requestIdleCallback(r, { timeout: 500 }));
    let lastMut = 0;
    const mo = new MutationObserver(() => { lastMut = performance.now(); });
    mo.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    let longTasks = 0;
    try {
      new PerformanceObserver((l) => { longTasks += l.getEntries().length; }).observe({ type: 'longtask' });
    } catch { /* not supported */ }
    const recs = () => performance.getEntriesByName('flatland:recompute', 'measure');
    const out = { sync: [], dom: [], frame: [], idle: [], nextFrame: [], recompute: [], visuals: [], visualsWork: [], applied: 0, recomputes: 0 };
    out.domNodes = document.querySelectorAll('*').length;
    for (let i = 0; i < n; i++) {
      // (a) the edit lands at the start of a frame: edit → DOM updated → that frame rendered.
      // Values alternate between 33..92 and 100..159, so every edit changes the model.
      let units = 33 + (i % 60);
      const before = total.textContent;
      const nRec = recs().length;
      await frame();
      const r = await new Promise((resolve) => requestAnimationFrame(() => {
        const t0 = performance.now();
        lastMut = 0;
        input.value = String(units);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        const tSync = performance.now();
        afterFrame().then((t2) => resolve({ t0, tSync, t2, tDom: lastMut, changed: total.textContent !== before }));
      }));
      out.sync.push(r.tSync - r.t0);
      out.dom.push((r.tDom || r.t2) - r.t0);
      out.frame.push(r.t2 - r.t0);
      if (r.changed) out.applied++;
      const rs = recs();
      out.recomputes += rs.length - nRec;
      if (rs.length > nRec) out.recompute.push(rs[rs.length - 1].duration);
      // … → main thread idle again (any follow-up tasks of the edit done).
      await idle();
      out.idle.push(performance.now() - r.t0);
      // … → the visuals, which follow one frame behind the stack, drawn (the app's
      // `flatland:visuals` measure ends once their effects, the canvas drawing, have run).
      const vis = performance.getEntriesByName('flatland:visuals', 'measure').filter((m) => m.startTime >= r.t0);
      if (vis.length) {
        const v = vis[vis.length - 1];
        out.visuals.push(v.startTime + v.duration - r.t0);
        out.visualsWork.push(v.duration);
      }

      // (b) the edit lands at a random moment: edit → next animation frame → rendered. This
      // adds the wait for the next frame (up to 16.7 ms at 60 Hz), which no work can remove.
      units = 100 + (i % 60);
      await frame();
      await new Promise((r) => setTimeout(r, Math.random() * 16));
      const t0 = performance.now();
      input.value = String(units);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await frame();
      const t3 = await afterFrame();
      out.nextFrame.push(t3 - t0);
      await idle();
    }
    mo.disconnect();
    performance.clearMeasures();
    out.longTasks = longTasks;
    out.finalTotal = total.textContent;
    return out;
  }, EDITS);
  results.edit.errors = errors;
  await context.close();
}

// ---------------------------------------------------------------- 2. cold load
if (ONLY.includes('load')) {
  const loads = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(() => {
      addEventListener('TrunkApplicationStarted', () => { window.__started = performance.now(); });
      const mo = new MutationObserver(() => {
        if (document.querySelector('[data-testid="layer-card"]')) {
          mo.disconnect();
          window.__card = performance.now();
          requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => { window.__painted = performance.now(); };
            ch.port2.postMessage(0);
          });
        }
      });
      mo.observe(document, { subtree: true, childList: true });
    });
    await page.goto(base);
    await page.waitForFunction(() => window.__painted, null, { timeout: 30000 });
    loads.push(await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      const wasm = res.find((e) => e.name.endsWith('.wasm'));
      const js = res.find((e) => e.name.endsWith('.js'));
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        card: window.__card, painted: window.__painted, started: window.__started,
        html: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd,
        jsStart: js ? js.startTime : NaN, jsFetched: js ? js.responseEnd : NaN,
        wasmStart: wasm ? wasm.startTime : NaN, wasmFirstByte: wasm ? wasm.responseStart : NaN,
        wasmFetched: wasm ? wasm.responseEnd : NaN, fcp: fcp ? fcp.startTime : NaN,
      };
    }));
    await context.close();
  }
  results.load = loads;
}

// ---------------------------------------------------------------- 4/5. forward, build
async function benchPage(prefix, d, tfjs) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  const url = `${base}bench/page.html?build=${encodeURIComponent(prefix)}&js=${moduleName(d)}&tfjs=${tfjs ? 1 : 0}&rounds=${ROUNDS}`;
  await page.goto(url);
  let r;
  try {
    r = await page.evaluate(() => window.benchDone);
  } catch (e) {
    throw new Error(`${url}: ${e.message}\n${logs.join('\n')}`);
  }
  await context.close();
  return r;
}
if (ONLY.includes('page')) {
  results.page = await benchPage('/', dist, true);
  results.page.load = load();
}
// ---------------------------------------------------------------- 6. training step
// The tools module (on demand: it carries the training code) is named by index.html's
// <meta name="flatland-tools"> (its loader); its wasm-bindgen glue drops the `_loader`.
function toolsGlue(d) {
  const html = fs.readFileSync(path.join(d, 'index.html'), 'utf8');
  const m = html.match(/flatland-tools(-[0-9a-f]+)?_loader\.js/);
  if (!m) throw new Error(`no flatland-tools loader named in ${d}/index.html`);
  return m[0].replace('_loader.js', '.js');
}
if (ONLY.includes('train')) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  const url = `${base}bench/train.html?tools=${toolsGlue(dist)}&rounds=${ROUNDS}&batch=${BATCH}&shim=${SHIM}`;
  await page.goto(url);
  try {
    results.train = await page.evaluate(() => window.benchDone);
    results.train.log = logs;
    results.train.load = load();
  } catch (e) {
    // A build whose tools module lacks the hooks: the other figures still count.
    if (!/no bench_train_\* exports/.test(e.message)) throw new Error(`${url}: ${e.message}\n${logs.join('\n')}`);
    console.log(`training step skipped: ${e.message.split('\n')[0]}`);
  }
  await context.close();
}
if (hasPlain) {
  // Alternate the two builds so both see the same machine load.
  const simd = []; const plain = [];
  for (let i = 0; i < 4; i++) {
    simd.push(await benchPage('/', dist, false));
    plain.push(await benchPage('/plain/', plainDist, false));
  }
  const keys = ['flatland_forward_mnist', 'flatland_analyze_stack100', 'flatland_read_analyze_stack100'];
  results.simd = Object.fromEntries(keys.map((k) => [k, median(simd.flatMap((p) => p[`${k}_rounds`]))]));
  results.simd.simd = simd[0].simd;
  results.plain = Object.fromEntries(keys.map((k) => [k, median(plain.flatMap((p) => p[`${k}_rounds`]))]));
  results.plain.simd = plain[0].simd;
  results.plain.size = sizes(plainDist);
}
results.load_end = load();

await browser.close();
server.close();

// ---------------------------------------------------------------- table
const ms = (x, d = 2) => (Number.isFinite(x) ? `${x.toFixed(d)} ms` : 'n/a');
const kb = (b) => `${(b / 1000).toFixed(1)} kB`;
const rows = [];
const e = results.edit;
if (e) {
  const tag = CSS ? ` [+ css: ${CSS}]` : '';
  rows.push(
    [`edit → DOM updated (${LAYERS} layers, ${e.domNodes} DOM nodes, median of ${EDITS})${tag}`, ms(median(e.dom)), ''],
    [`edit → frame rendered, edit at frame start (median)${tag}`, ms(median(e.frame)), '≤ 4 ms'],
    ['  same, p90 / max', `${ms(pct(e.frame, 90))} / ${ms(Math.max(...e.frame))}`, ''],
    ['edit at a random time → next frame rendered (median)', ms(median(e.nextFrame)), '(incl. wait for vsync)'],
    ['edit → visuals drawn (they follow one frame behind; median)', ms(median(e.visuals)), `${e.visuals.length} of ${EDITS}`],
    ['  the visuals update itself (flatland:visuals measure, median)', ms(median(e.visualsWork)), ''],
    ['edit → main thread idle again (median)', ms(median(e.idle)), ''],
    ['flatland:recompute measure (median)', ms(median(e.recompute), 3), ''],
    ['  edits applied / recomputes / long tasks (> 50 ms)', `${e.applied}/${EDITS} / ${e.recomputes} / ${e.longTasks}`, ''],
  );
}
const L = results.load;
if (L) {
  const m = (k, d = 1) => ms(median(L.map((x) => x[k])), d);
  rows.push(
    [`cold load: navigation → first layer card in DOM (median of ${LOADS})`, m('card'), '≤ 300 ms'],
    ['cold load: → first card rendered (median)', m('painted'), ''],
    ['cold load: first contentful paint (median)', m('fcp'), ''],
    ['  html / js fetched / wasm requested / wasm fetched', `${m('html')} / ${m('jsFetched')} / ${m('wasmStart')} / ${m('wasmFetched')}`, ''],
    ['  TrunkApplicationStarted (wasm compiled + main ran)', m('started'), ''],
  );
}
rows.push(['cold-load transfer size, gzip -9 (raw; brotli -11)', `${kb(results.size.gzip)} (${kb(results.size.raw)}; ${kb(results.size.brotli)})`, '≤ 250 kB']);
rows.push(['  loaded on demand (tools worker), gzip -9 (raw)', `${kb(results.size.lazy.gzip)} (${kb(results.size.lazy.raw)})`, '']);
const p = results.page;
if (p) {
  const x = (a, b, d) => `${(a / b).toFixed(d)}×`;
  rows.push(
    ['forward MNIST CNN, 1 image: Flatland WASM', ms(p.flatland_forward_mnist, 3), ''],
    ['  TF.js 4.22 CPU backend', `${ms(p.tfjs_cpu_forward_mnist, 3)} (ours ${x(p.tfjs_cpu_forward_mnist, p.flatland_forward_mnist, 1)} faster)`, '≥ 5×'],
    [`  TF.js 4.22 WASM backend (SIMD ${p.tfjs_wasm_simd}, threads ${p.tfjs_wasm_threads})`, `${ms(p.tfjs_wasm_forward_mnist, 3)} (ours ${p.flatland_forward_mnist <= p.tfjs_wasm_forward_mnist ? `${x(p.tfjs_wasm_forward_mnist, p.flatland_forward_mnist, 2)} faster` : `${x(p.flatland_forward_mnist, p.tfjs_wasm_forward_mnist, 2)} slower`})`, '≈ 1×'],
    ['  max |TF.js − Flatland| of the outputs (cpu / wasm)', `${p.tfjs_cpu_max_abs_diff?.toExponential(1)} / ${p.tfjs_wasm_max_abs_diff?.toExponential(1)}`, ''],
    ['stack100 recompute (analyze): Flatland WASM', ms(p.flatland_analyze_stack100, 4), ''],
    ['stack100 read Keras JSON + analyze: Flatland WASM', ms(p.flatland_read_analyze_stack100, 3), ''],
    ['  TF.js CPU: JSON.parse + tf.sequential(100 layers) + countParams', `${ms(p.tfjs_cpu_build_stack100, 2)} (${x(p.tfjs_cpu_build_stack100, p.flatland_analyze_stack100, 0)} our recompute)`, ''],
  );
}
const t = results.train;
if (t) {
  const x = (a, b) => (a >= b ? `ours ${(a / b).toFixed(2)}× faster` : `ours ${(b / a).toFixed(2)}× slower`);
  for (const name of ['cnn', 'mlp']) {
    const f = t[`flatland_train_step_${name}`];
    rows.push([`train step (fwd + bwd + Adam), MNIST ${name.toUpperCase()}, batch ${t.batch}: Flatland WASM (tools module)`, ms(f, 3), '']);
    for (const b of ['cpu', 'wasm']) {
      const v = t[`tfjs_${b}_train_step_${name}`];
      const err = t.errors[`tfjs_${b}_train_step_${name}`];
      const d = t[`tfjs_${b}_${name}_weight_diff`];
      const shimmed = b === 'wasm' && name === 'cnn' && t.tfjs_wasm_shim ? ', Conv2DBackpropFilter shim' : '';
      rows.push([`  TF.js ${t.tfjs_version} ${b.toUpperCase()} trainOnBatch${b === 'wasm' ? ` (SIMD ${t.tfjs_wasm_simd}, threads ${t.tfjs_wasm_threads}${shimmed})` : ''}`,
        err ? `cannot train: ${err.slice(0, 70)}` : `${ms(v, 3)} (${x(v, f)}); Δw vs ours after step 1: p99 ${d?.p99.toExponential(1)}`,
        b === 'wasm' ? '≈ 1× or better' : '']);
    }
  }
}
if (results.simd) {
  const s = results.simd; const q = results.plain;
  rows.push([`shipped build (simd128 ${s.simd}) vs plain build (simd128 ${q.simd}), alternated: forward MNIST`, `${ms(s.flatland_forward_mnist, 3)} vs ${ms(q.flatland_forward_mnist, 3)} (${(q.flatland_forward_mnist / s.flatland_forward_mnist).toFixed(2)}× faster)`, '']);
  rows.push(['  stack100 analyze, shipped vs plain', `${ms(s.flatland_analyze_stack100, 4)} vs ${ms(q.flatland_analyze_stack100, 4)}`, '']);
  rows.push(['  initial-load gzip, shipped vs plain', `${kb(results.size.gzip)} vs ${kb(q.size.gzip)}`, '']);
}
const w = Math.max(...rows.map((r) => r[0].length));
const v = Math.max(...rows.map((r) => r[1].length));
console.log(`Flatland browser benchmarks — commit ${results.commit}${results.dirty ? ' + uncommitted changes' : ''}, Chromium ${results.chromium}, ${os.cpus().length} CPUs, ${results.date}`);
console.log(`load average at start: ${results.load_start}; at end: ${results.load_end}`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b.padStart(v)}  ${c}`);
if (e && e.errors.length) console.log(`page errors: ${e.errors.join(' | ')}`);
const outDir = path.join(root, 'bench', 'results');
fs.mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, `browser-${results.date.replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(outFile, JSON.stringify(results, null, 1));
console.log(`raw results: ${path.relative(process.cwd(), outFile)}`);
