// One training step (training-mode forward, loss, backward, Adam update) on a batch of
// MNIST-sized images: Flatland's wasm (the on-demand tools module, which carries the training
// code: src/bin/tools_bench/mod.rs) against TensorFlow.js 4.22 (CPU and WASM backends,
// `model.trainOnBatch`, the counterpart of Keras's `train_on_batch`) on the same model,
// weights, batch, loss (categorical cross-entropy on one-hot labels) and optimizer (Adam,
// Keras's defaults), in one page session.
//
// Models: the MNIST CNN of BENCHMARKS.md (tests/fixtures/bench/mnist_cnn.json) and an MNIST
// MLP (Flatten → Dense 128 relu → Dense 10 softmax).
// Query parameters: tools (the tools module's wasm-bindgen glue file, no-modules target: it
// defines `wasm_bindgen`), build (URL prefix, default "/"), batch (default 32), rounds
// (default 10), tfjs (default 1).
// Every contender runs `rounds` times, interleaved (a burst of load from other processes hits
// all of them alike); each round reports the median per-step time over its batches of steps
// (≥ 2 ms); the figure is the median over rounds. Before timing, one step from the same
// weights is compared: the loss and the updated weights, TF.js against Flatland.

const q = new URLSearchParams(location.search);
const build = q.get('build') || '/';
const rounds = Number(q.get('rounds') || 10);
const BATCH = Number(q.get('batch') || 32);
const withTf = q.get('tfjs') !== '0';
const shim = q.get('shim') !== '0';
const logEl = document.getElementById('bench-log');
const log = (s) => { logEl.textContent += `\n${s}`; console.log(s); };

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};

// As per_call in src/bin/tools_bench/mod.rs, for async steps: batches of ≥ 2 ms, median ms
// per call; the first call of `batch` search is the warm-up.
async function perCall(samples, f, batch) {
  if (!batch) {
    batch = 1;
    for (;;) {
      const t = performance.now();
      for (let i = 0; i < batch; i++) await f();
      if (performance.now() - t >= 2 || batch >= 65536) break;
      batch *= 2;
    }
  }
  const times = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) await f();
    times.push((performance.now() - t) / batch);
  }
  return { ms: median(times), batch };
}

// mulberry32, as bench/page.js.
function seeded(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

const MLP = JSON.stringify({
  format: 'flatland-model', version: 1, name: 'mnist_mlp', input_shape: [28, 28, 1],
  layers: [
    { class_name: 'Flatten', name: 'f', config: {} },
    { class_name: 'Dense', name: 'd1', config: { units: 128, activation: 'relu' } },
    { class_name: 'Dense', name: 'd2', config: { units: 10, activation: 'softmax' } },
  ],
});

// `eps`: Adam's ε. Keras divides by √v + ε before the bias correction, TF.js after it, so TF.js
// matches Keras's step t exactly with ε / √(1 − β₂ᵗ): the first-step check uses that (ε 1e-7 /
// √0.001); the timed models use TF.js's default (the time does not depend on ε).
function tfModel(tf, which, eps) {
  const layers = which === 'cnn' ? [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ] : [
    tf.layers.flatten({ inputShape: [28, 28, 1] }),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ];
  const model = tf.sequential({ layers });
  // tf.train.adam's defaults are Keras's (lr 0.001, β 0.9 / 0.999, ε 1e-7 for float32).
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, eps), loss: 'categoricalCrossentropy' });
  return model;
}

function setWeights(tf, model, flat) {
  const shapes = model.getWeights().map((w) => w.shape);
  const total = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  if (total !== flat.length) throw new Error(`TF.js has ${total} weights, Flatland ${flat.length}`);
  let off = 0;
  model.setWeights(shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.subarray(off, off + n), s);
    off += n;
    return t;
  }));
}

// TF.js 4.22's WASM backend has no Conv2DBackpropFilter kernel, so it cannot train a Conv2D
// (`Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'`). With `shim=1` (the
// default) the bench registers one made of the backend's own kernels, for stride 1, dilation 1,
// 'valid' padding, NHWC (the MNIST CNN's case): the filter gradient
//   dW[a, b, ci, co] = Σ_{n, i, j} x[n, i + a, j + b, ci] · dy[n, i, j, co]
// is a 'valid' convolution of x with the batch axis as channels (x → [ci, h, w, n]) by dy as the
// filter (dy → [ho, wo, n, co]), giving [ci, kh, kw, co], transposed to [kh, kw, ci, co]:
// two Transposes, one Conv2D (XNNPACK) and a Transpose, all TF.js WASM code. Its results are
// checked against TF.js CPU's below (the weights after one step).
function shimConv2DBackpropFilter(tf) {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return false;
  const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
  const conv2d = tf.getKernel('Conv2D', 'wasm').kernelFunc;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs;
      const { strides, pad, dataFormat, dilations } = attrs;
      const ones = (v) => v === undefined || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
      if (!ones(strides) || !ones(dilations) || pad !== 'valid' || (dataFormat && dataFormat !== 'NHWC')) {
        throw new Error('bench shim: Conv2DBackpropFilter only for stride 1, dilation 1, valid, NHWC');
      }
      const xt = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
      const f = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
      const c = conv2d({ inputs: { x: xt, filter: f }, backend, attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 } });
      const out = transpose({ inputs: { x: c }, backend, attrs: { perm: [1, 2, 0, 3] } });
      for (const t of [xt, f, c]) backend.disposeData(t.dataId);
      return out;
    },
  });
  return true;
}

// How far apart two weight vectors are: max, 99th percentile, and how many differ by > 1e-5.
function diffStats(a, b, off = 0) {
  const d = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = Math.abs(a[i] - b[i + off]);
  const s = Float32Array.from(d).sort();
  return { max: s[s.length - 1], p99: s[Math.floor(0.99 * (s.length - 1))], over1e5: d.filter((v) => v > 1e-5).length, n: d.length };
}

async function main() {
  const tools = q.get('tools');
  await loadScript(build + tools);
  // The glue declares `let wasm_bindgen` at the top level: a global binding, not a window property.
  // eslint-disable-next-line no-undef
  const fl = wasm_bindgen;
  await fl({ module_or_path: build + tools.replace(/\.js$/, '_bg.wasm') });
  if (typeof fl.bench_train_step !== 'function') {
    throw new Error('the tools module has no bench_train_* exports (src/bin/flatland-tools.rs must include src/bin/tools_bench/mod.rs)');
  }
  // tests/fixtures/bench/mnist_cnn.json (Keras 3 JSON) as Flatland model JSON, which the hooks
  // read (as bench/server.mjs's stackModel does).
  const keras = await fetch('/fixtures/mnist_cnn.json').then((r) => r.json());
  const kl = keras.config.layers;
  const cnn = JSON.stringify({
    format: 'flatland-model', version: 1, name: 'mnist_cnn',
    input_shape: kl.find((l) => l.class_name === 'InputLayer').config.batch_shape.slice(1),
    layers: kl.filter((l) => l.class_name !== 'InputLayer').map((l) => ({ class_name: l.class_name, name: l.config.name, config: l.config })),
  });
  const models = { cnn, mlp: MLP };
  const seed = 0;
  const x = seeded(BATCH * 28 * 28, 2);
  const y = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) y[i * 10 + (i % 10)] = 1;
  const LOSS = 'categorical_crossentropy';
  const res = { crossOriginIsolated, userAgent: navigator.userAgent, rounds, batch: BATCH, errors: {} };
  log(`batch ${BATCH}, crossOriginIsolated: ${crossOriginIsolated}`);

  const contenders = [];
  const once = {};
  for (const [name, text] of Object.entries(models)) {
    const o = fl.bench_train_once(text, seed, x, y, BATCH, LOSS);
    if (!o.length || !Number.isFinite(o[0])) throw new Error(`Flatland cannot train ${name}`);
    once[name] = o;
    res[`flatland_${name}_first_loss`] = o[0];
    contenders.push({
      key: `flatland_train_step_${name}`,
      run: () => {
        const ms = fl.bench_train_step(text, seed, x, y, BATCH, LOSS, 5);
        if (!Number.isFinite(ms)) throw new Error(`Flatland train step ${name}: no result`);
        return ms;
      },
    });
  }

  if (withTf) {
    await loadScript('/node_modules/@tensorflow/tfjs/dist/tf.min.js');
    await loadScript('/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
    const tf = window.tf;
    res.tfjs_version = tf.version.tfjs;
    tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // single-threaded, as Flatland
    await tf.setBackend('wasm');
    await tf.ready();
    res.tfjs_wasm_simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    res.tfjs_wasm_threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    res.tfjs_wasm_shim = shim && shimConv2DBackpropFilter(tf);
    const afterCpu = {};
    for (const backend of ['cpu', 'wasm']) {
      for (const name of Object.keys(models)) {
        const key = `tfjs_${backend}_train_step_${name}`;
        await tf.setBackend(backend);
        const model = tfModel(tf, name);
        const check = tfModel(tf, name, 1e-7 / Math.sqrt(1 - 0.999));
        const xt = tf.tensor(x, [BATCH, 28, 28, 1]);
        const yt = tf.tensor(y, [BATCH, 10]);
        try {
          // From Flatland's seeded initial weights (Keras get_weights() order = TF.js's).
          const w0 = fl.bench_train_weights(models[name], seed);
          setWeights(tf, model, w0);
          setWeights(tf, check, w0);
          const loss = await check.trainOnBatch(xt, yt);
          const after = Float32Array.from(check.getWeights().flatMap((w) => Array.from(w.dataSync())));
          const d = diffStats(after, once[name], 1);
          res[`tfjs_${backend}_${name}_first_loss`] = loss;
          res[`tfjs_${backend}_${name}_weight_diff`] = d;
          log(`TF.js ${backend} ${name}: first-step loss ${loss.toFixed(6)} (Flatland ${once[name][0].toFixed(6)}); weights after it vs Flatland: max |Δ| ${d.max.toExponential(2)}, p99 ${d.p99.toExponential(2)}, ${d.over1e5} of ${d.n} over 1e-5`);
          if (backend === 'cpu') afterCpu[name] = after;
          else if (afterCpu[name]) {
            const c = diffStats(after, afterCpu[name]);
            res[`tfjs_wasm_vs_cpu_${name}_weight_diff`] = c;
            log(`TF.js wasm vs TF.js cpu ${name}: max |Δ| ${c.max.toExponential(2)}, ${c.over1e5} of ${c.n} over 1e-5`);
          }
        } catch (e) {
          res.errors[key] = String(e.message || e);
          log(`TF.js ${backend} ${name}: cannot train: ${res.errors[key]}`);
          continue;
        }
        let batch;
        let last = 0;
        contenders.push({
          key,
          run: async () => {
            await tf.setBackend(backend);
            // Steps of over 200 ms (TF.js CPU on the CNN): one timed step per round.
            const r = await perCall(last > 200 ? 1 : 5, () => model.trainOnBatch(xt, yt), batch);
            batch = r.batch;
            last = r.ms;
            return r.ms;
          },
        });
      }
    }
  }

  const per = Object.fromEntries(contenders.map((c) => [c.key, []]));
  for (const c of contenders) await c.run(); // warm-up (JIT tiers, wasm tier-up)
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) per[c.key].push(await c.run());
  }
  for (const c of contenders) {
    res[c.key] = median(per[c.key]);
    res[`${c.key}_rounds`] = per[c.key];
    log(`${c.key}: ${res[c.key].toFixed(3)} ms (median of ${rounds} rounds)`);
  }
  return res;
}

window.benchDone = main().then(
  (r) => { window.benchResults = r; log('done'); return r; },
  (e) => { log(`error: ${e.stack || e}`); throw e; },
);
