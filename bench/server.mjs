// Loopback static server for the browser benchmarks (127.0.0.1, random port).
//   /            the release build (DIST, default bench/dist)
//   /plain/      the build without SIMD (bench/dist-plain), when built
//   /bench/      this folder (page.html, page.js)
//   /fixtures/   tests/fixtures/bench (stack100.json, mnist_cnn.json)
//   /node_modules/  npm packages (TensorFlow.js; no CDN: the machine has no internet)
// Files are read whole and sent in one write (the server should add as little as possible to
// a cold load), uncompressed, with `cache-control: no-store` and COOP/COEP headers: pages are
// cross-origin isolated, so performance.now() has 5 µs resolution instead of 100 µs.
// (Everything is same-origin, so isolation changes nothing else.)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');

const types = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
};

export async function serve({ dist = path.join(root, 'bench', 'dist'), plain = path.join(root, 'bench', 'dist-plain') } = {}) {
  const mounts = [
    ['/plain/', plain],
    ['/bench/', here],
    ['/fixtures/', path.join(root, 'tests', 'fixtures', 'bench')],
    ['/node_modules/', path.join(root, 'node_modules')],
    ['/', path.resolve(dist)],
  ];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = decodeURIComponent(url.pathname);
    const [prefix, dir] = mounts.find(([m]) => p.startsWith(m));
    let file = path.join(dir, p.slice(prefix.length));
    if (!file.startsWith(dir)) { res.writeHead(403); return res.end(); }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) { res.writeHead(404); return res.end('not found'); }
    res.writeHead(200, {
      'content-type': types[path.extname(file)] || 'application/octet-stream',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}/` };
}

/// The wasm-bindgen module file name of a Trunk build (from its index.html).
export function moduleName(dist) {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const m = html.match(/from '\/([^']+\.js)'/);
  if (!m) throw new Error(`no module import in ${dist}/index.html`);
  return m[1];
}

// The edit benchmarks' model: the first `n` layers of tests/fixtures/bench/stack100.json
// (Dense 32 / Activation / Dropout / BatchNormalization …) as Flatland model JSON, for
// `localStorage` `flatland:model`.
export function stackModel(n) {
  const k = JSON.parse(fs.readFileSync(path.join(root, 'tests', 'fixtures', 'bench', 'stack100.json'), 'utf8'));
  const ls = k.config.layers.filter((l) => l.class_name !== 'InputLayer').slice(0, n);
  return JSON.stringify({
    format: 'flatland-model', version: 1, name: `stack${n}`, input_shape: [32],
    layers: ls.map((l) => ({ class_name: l.class_name, name: l.config.name, config: l.config })),
  });
}

// A fresh 1280×900 page on the `layers`-layer stack (stackModel, through localStorage), its
// first card selected so the inspector's `units` field is there: where every edit benchmark
// starts. `css`: a what-if stylesheet added once the page has loaded. `onPage(page)` runs
// before the page loads (e.g. to collect page errors).
export async function openStack(browser, base, layers, { css = '', onPage = () => {} } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(([k, v]) => localStorage.setItem(k, v), ['flatland:model', stackModel(layers)]);
  if (css) {
    await context.addInitScript((c) => addEventListener('DOMContentLoaded', () => {
      const st = document.createElement('style');
      st.textContent = c;
      document.head.appendChild(st);
    }), css);
  }
  const page = await context.newPage();
  onPage(page);
  await page.goto(base);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="layer-card"]').length === n, layers, { timeout: 30000 });
  await page.locator('[data-testid="layer-card"]').first().click();
  await page.waitForSelector('[data-testid="field-units"]');
  return { context, page };
}

// Debian's Chromium, headless, with the e2e suite's flags (no background networking: the
// machine has no internet).
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions'];
export async function launch(chromium) {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: chromiumArgs });
}
