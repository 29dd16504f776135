// In-page benchmarks: Flatland's WASM (window.wasmBindings-style exports from src/app/bench.rs,
// loaded straight from a Trunk release build) against TensorFlow.js 4.22 (CPU and WASM
// backends) on the same model, weights and input, in one page session.
//
// Query parameters: build (URL prefix of the Trunk build, default "/"), js (its wasm-bindgen
// module file), tfjs (1 = also run TensorFlow.js), rounds (default 10).
// Every contender runs `rounds` times, interleaved (so a burst of load from other processes
// hits all of them alike); each round reports the median per-call time over its batches; the
// figure is the median over rounds.

const q = new URLSearchParams(location.search);
const build = q.get('build') || '/';
const rounds = Number(q.get('rounds') || 10);
const withTf = q.get('tfjs') === '1';
const logEl = document.getElementById('bench-log');
const log = (s) => { logEl.textContent += `\n${s}`; console.log(s); };

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};

// Same method as per_call in src/app/bench.rs: batches of ≥ 2 ms, median ms per call.
function perCall(samples, f, batch) {
  if (!batch) {
    batch = 1;
    for (;;) {
      const t = performance.now();
      for (let i = 0; i < batch; i++) f();
      if (performance.now() - t >= 2 || batch >= 65536) break;
      batch *= 2;
    }
  }
  const times = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) f();
    times.push((performance.now() - t) / batch);
  }
  return { ms: median(times), batch };
}

// mulberry32: a seeded input image, identical for every contender.
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

// ---- TF.js models
function tfMnist(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

// The same 100 layers as tests/fixtures/bench/stack100.json (Keras 3 JSON), built with
// tf.sequential: shapes, weights (initialised) and parameter count.
function tfFromKeras(tf, kerasText) {
  const spec = JSON.parse(kerasText);
  const layers = [];
  let inputShape;
  for (const l of spec.config.layers) {
    const c = l.config;
    let layer;
    switch (l.class_name) {
      case 'InputLayer': inputShape = c.batch_shape.slice(1); continue;
      case 'Dense': layer = tf.layers.dense({ units: c.units, activation: c.activation, useBias: c.use_bias }); break;
      case 'Activation': layer = tf.layers.activation({ activation: c.activation }); break;
      case 'ReLU': layer = tf.layers.reLU(); break;
      case 'Dropout': layer = tf.layers.dropout({ rate: c.rate }); break;
      case 'BatchNormalization':
        layer = tf.layers.batchNormalization({ axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale });
        break;
      case 'LayerNormalization': layer = tf.layers.layerNormalization({ axis: -1, epsilon: c.epsilon }); break;
      default: throw new Error(`no TF.js mapping for ${l.class_name}`);
    }
    layers.push(layer);
  }
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape }));
  for (const layer of layers) model.add(layer);
  const params = model.countParams();
  const shapes = model.layers.map((l) => l.outputShape);
  return { model, params, shapes };
}

async function main() {
  const js = q.get('js');
  const mod = await import(build + js);
  await mod.default({ module_or_path: build + js.replace(/\.js$/, '_bg.wasm') });
  const fl = mod;
  const [mnist, stack100] = await Promise.all([
    fetch('/fixtures/mnist_cnn.json').then((r) => r.text()),
    fetch('/fixtures/stack100.json').then((r) => r.text()),
  ]);
  const x = seeded(28 * 28, 1);
  const seed = 0;
  // The exports give NaN / empty results for a model they cannot read or run.
  const finite = (key, v) => {
    if (!Number.isFinite(v)) throw new Error(`${key}: no result (unreadable or invalid model?)`);
    return v;
  };
  const res = {
    simd: fl.bench_simd(), crossOriginIsolated, userAgent: navigator.userAgent, rounds,
  };
  log(`Flatland build ${build} (simd128: ${res.simd}), crossOriginIsolated: ${crossOriginIsolated}`);

  const contenders = [];
  // Flatland: the Rust timing loops (src/app/bench.rs), one call per round.
  contenders.push({ key: 'flatland_forward_mnist', run: () => finite('forward', fl.bench_forward(mnist, seed, x, 20)) });
  contenders.push({ key: 'flatland_analyze_stack100', run: () => finite('analyze', fl.bench_analyze(stack100, 20)) });
  contenders.push({ key: 'flatland_read_analyze_stack100', run: () => finite('read_analyze', fl.bench_read_analyze(stack100, 20)) });

  if (withTf) {
    await loadScript('/node_modules/@tensorflow/tfjs/dist/tf.min.js');
    await loadScript('/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
    const tf = window.tf;
    res.tfjs_version = tf.version.tfjs;
    tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    // Single-threaded (Flatland is single-threaded too); SIMD when the browser has it.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend('wasm');
    await tf.ready();
    res.tfjs_wasm_simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    res.tfjs_wasm_threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');

    // Flatland's weights (Keras get_weights() order and layout = TF.js's), and its output.
    const flat = fl.bench_weights(mnist, seed);
    const ours = fl.bench_forward_output(mnist, seed, x);
    if (ours.length !== 10 || !flat.length) throw new Error('Flatland could not run the MNIST CNN');
    const models = {};
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = tfMnist(tf);
      // Keras get_weights() order and shapes = TF.js getWeights() order and shapes.
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
      const xt = tf.tensor(x, [1, 28, 28, 1]);
      const y = model.predict(xt).dataSync();
      let diff = 0;
      for (let i = 0; i < y.length; i++) diff = Math.max(diff, Math.abs(y[i] - ours[i]));
      res[`tfjs_${backend}_max_abs_diff`] = diff;
      log(`TF.js ${backend}: max |TF.js - Flatland| over the 10 outputs = ${diff.toExponential(2)}`);
      models[backend] = { model, xt };
    }
    for (const backend of ['cpu', 'wasm']) {
      const { model, xt } = models[backend];
      let batch;
      contenders.push({
        key: `tfjs_${backend}_forward_mnist`,
        run: async () => {
          await tf.setBackend(backend);
          const r = perCall(20, () => {
            const y = model.predict(xt);
            y.dataSync();
            y.dispose();
          }, batch);
          batch = r.batch;
          return r.ms;
        },
      });
    }
    let buildBatch;
    contenders.push({
      key: 'tfjs_cpu_build_stack100',
      run: async () => {
        await tf.setBackend('cpu');
        const r = perCall(3, () => {
          const { model, params, shapes: s } = tfFromKeras(tf, stack100);
          if (s.length < 100 || !(params > 0)) throw new Error('TF.js stack100 build');
          model.dispose();
        }, buildBatch);
        buildBatch = r.batch;
        return r.ms;
      },
    });
    const built = tfFromKeras(tf, stack100);
    res.tfjs_stack100_params = built.params;
    built.model.dispose();
  }

  const per = Object.fromEntries(contenders.map((c) => [c.key, []]));
  for (const c of contenders) await c.run(); // warm-up (JIT tiers, wasm tier-up)
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) per[c.key].push(await c.run());
  }
  for (const c of contenders) {
    res[c.key] = median(per[c.key]);
    res[`${c.key}_rounds`] = per[c.key];
    log(`${c.key}: ${res[c.key].toFixed(4)} ms (median of ${rounds} rounds)`);
  }
  return res;
}

window.benchDone = main().then(
  (r) => { window.benchResults = r; log('done'); return r; },
  (e) => { log(`error: ${e.stack || e}`); throw e; },
);
