// Training (issue 15): the Train panel loads on demand, trains model A and model B on the same
// data in a worker, draws both curves, stops mid-epoch and resumes, and trains on a CSV file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, waitText, texts, assert, dropFile, cli, writeNpy, readNpy, readLastOutput } from '../lib.mjs';

/// Model A of the seed question's position task: a per-position Dense, then pooling.
const POOLED = `import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(3, 2)),
    layers.Dense(16, activation="relu"),
    layers.GlobalAveragePooling1D(),
    layers.Dense(2, activation="softmax"),
])
`;

async function openTrain(page) {
  await page.click('[data-testid="open-train"]');
  await page.waitForSelector('[data-testid="train-panel"]');
}

async function fill(page, testid, value) {
  await page.fill(`[data-testid="${testid}"]`, String(value));
}

/// Wait until `train-epoch` shows `n` finished epochs and Start can be pressed again.
async function waitEpochs(page, n, timeout = 60000) {
  await page.waitForFunction((want) => {
    const e = document.querySelector('[data-testid="train-epoch"]');
    const start = document.querySelector('[data-testid="train-start"]');
    return e && Number(e.textContent) === want && start && !start.disabled;
  }, n, { timeout }).catch(async () => {
    throw new Error(`expected ${n} finished epochs, got ${JSON.stringify(await texts(page, 'train-epoch'))} ${JSON.stringify(await texts(page, 'train-message'))}`);
  });
}

const pct = (t) => Number(t.replace('%', '').trim());

export const flows = [
  {
    name: 'after training, the forward values use A\'s trained weights (equal to `flatland forward --weights` of the downloaded .npz); Reset weights goes back',
    async run(page, { base }) {
      await open(page, base);
      await page.waitForSelector('[data-testid="new-weights"]');
      const x = JSON.parse(await page.inputValue('[data-testid="example-input"]'));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flatland-e2e-'));
      writeNpy(path.join(dir, 'x.npy'), [1, x.length, x[0].length], x.flat());
      cli(['forward', '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'seeded.npy'), '--seed', '1']);
      const seeded = readNpy(path.join(dir, 'seeded.npy'));
      await openTrain(page);
      await fill(page, 'train-epochs', 3);
      await page.click('[data-testid="train-start"]');
      await waitEpochs(page, 3);
      await page.waitForSelector('[data-testid="train-download-a"]');
      const b64 = await page.$eval('[data-testid="train-download-a"]', (a) => a.href.split(',')[1]);
      fs.writeFileSync(path.join(dir, 'a.npz'), Buffer.from(b64, 'base64'));
      await page.click('[data-testid="train-close"]');
      await page.waitForFunction(() => /model A, 3 epochs/.test(document.querySelector('[data-testid="weights-trained"]')?.textContent ?? ''));
      cli(['forward', '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'trained.npy'), '--weights', path.join(dir, 'a.npz')]);
      const want = readNpy(path.join(dir, 'trained.npy'));
      const got = await readLastOutput(page, want.length);
      want.forEach((w, i) => assert(Math.abs(got[i] - w) <= 5e-5 + 1e-4 * Math.abs(w), `trained output ${i}: page ${got[i]}, CLI ${w}`));
      assert(want.some((v, i) => Math.abs(v - seeded[i]) > 1e-3), 'training did not change the output');
      // Reset weights: the seeded values again.
      await page.click('[data-testid="reset-weights"]');
      await page.waitForSelector('[data-testid="weights-trained"]', { state: 'detached' });
      assert(/weights seed 1/.test(await page.textContent('.vz-forward')), 'the seed is not shown after Reset');
      const back = await readLastOutput(page, seeded.length);
      seeded.forEach((w, i) => assert(Math.abs(back[i] - w) <= 5e-5 + 1e-4 * Math.abs(w), `after reset, output ${i}: page ${back[i]}, CLI ${w}`));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'default model: Start trains A and B at once, with curves and losses',
    async run(page, { base, artifacts }) {
      await open(page, base);
      // The Train panel is not part of the first load.
      const before = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
      assert(!before.some((n) => /flatland-tools/.test(n)), 'the tools module was loaded before Train was opened');
      await openTrain(page);
      await fill(page, 'train-epochs', 3);
      await page.click('[data-testid="train-start"]');
      await waitEpochs(page, 3);
      const [a, b] = [(await texts(page, 'train-loss-a'))[0], (await texts(page, 'train-loss-b'))[0]];
      assert(Number(a) > 0 && Number(b) > 0, `losses ${a}, ${b}`);
      assert(await page.$$eval('[data-testid="train-chart"] polyline', (p) => p.length) === 8, 'the chart has 8 lines (A and B, loss and accuracy, train and validation)');
      // The trained weights download as .npz (np.savez of get_weights(): a zip of arr_0.npy, …).
      await page.waitForSelector('[data-testid="train-download-a"]');
      const bytes = await page.$eval('[data-testid="train-download-a"]', (a) => atob(a.href.split(',')[1]).slice(0, 40));
      assert(bytes.startsWith('PK') && bytes.includes('arr_0.npy'), `not an npz: ${JSON.stringify(bytes)}`);
      await page.screenshot({ path: path.join(artifacts, 'train-panel.png') });
    },
  },
  {
    name: 'position task: B (Flatten) passes A (pooling) on validation accuracy',
    async run(page, { base }) {
      await open(page, base);
      await (await dropFile(page, 'pooled.py', POOLED))();
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="layer-class"]')].map((e) => e.textContent.trim()).join() === 'Dense,GlobalAveragePooling1D,Dense');
      await page.click('[data-testid="dialog-close"]');
      await openTrain(page);
      const lead = await page.textContent('.tr-lead');
      assert(lead.includes('Flatten instead of'), `B is A with Flatten instead of pooling: ${lead}`);
      await page.selectOption('[data-testid="train-dataset"]', 'positions');
      await fill(page, 'train-epochs', 20);
      await page.click('[data-testid="train-start"]');
      await waitEpochs(page, 20, 120000);
      const a = pct((await texts(page, 'train-val-acc-a'))[0]);
      const b = pct((await texts(page, 'train-val-acc-b'))[0]);
      assert(b > a + 15 && b > 85, `B's validation accuracy ${b} % should pass A's ${a} %`);
      // A held-out sample through both trained models: class probabilities and the label.
      await page.waitForSelector('[data-testid="train-predict-b"]');
      const pb = (await texts(page, 'train-predict-b'))[0];
      assert(/→ class [01]/.test(pb), `B's prediction names a class: ${pb}`);
      await page.click('[aria-label="Next sample"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="train-sample"]').textContent.includes('sample 2 of 200'));
    },
  },
  {
    name: 'Stop halts training mid-epoch; Resume goes on from there',
    async run(page, { base }) {
      await open(page, base);
      await openTrain(page);
      await fill(page, 'train-samples', 20000);
      await fill(page, 'train-epochs', 4);
      await fill(page, 'train-batch', 1);
      await page.click('[data-testid="train-start"]');
      // Some batches of the first epoch are done.
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-batch-done"]')?.textContent) > 0);
      await page.click('[data-testid="train-stop"]');
      await page.waitForFunction(() => !document.querySelector('[data-testid="train-resume"]').disabled);
      // After Stop the worker answers the in-flight step, then the requests for the weights
      // (their download links appear), and nothing steps: the position is where Stop left it,
      // inside an epoch.
      await page.waitForSelector('[data-testid="train-download-b"]');
      const at = async () => [(await texts(page, 'train-epoch'))[0], (await texts(page, 'train-batch-done'))[0]];
      const stopped = await at();
      assert(Number(stopped[0]) < 4 && Number(stopped[1]) > 0, `stopped mid-epoch: ${stopped}`);
      // The page's model is untouched by clicks in the panel.
      const cls = await page.$$eval('[data-testid="layer-class"]', (e) => e.map((x) => x.textContent.trim()).join());
      assert(cls === 'Dense,Activation,Flatten,Dense', `the model changed: ${cls}`);
      await page.click('[data-testid="train-resume"]');
      await waitEpochs(page, 4, 120000);
    },
  },
  {
    name: 'a CSV file trains',
    async run(page, { base }) {
      await open(page, base);
      await openTrain(page);
      // 200 rows: 6 x columns (the seed model's (3, 2) input) and a 0/1 label.
      let csv = 'a,b,c,d,e,f,label\n';
      let s = 7;
      const r = () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; };
      for (let i = 0; i < 200; i++) {
        const v = [r(), r(), r(), r(), r(), r()];
        csv += `${v.map((x) => x.toFixed(4)).join(',')},${v[0] + v[1] > v[4] + v[5] ? 1 : 0}\n`;
      }
      await page.setInputFiles('[data-testid="train-file"]', { name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.waitForSelector('[data-testid="train-y-col"]');
      await fill(page, 'train-epochs', 4);
      await page.click('[data-testid="train-start"]');
      await waitEpochs(page, 4);
      await waitText(page, 'train-panel', 'mine.csv:160trainingsamples40forvalidation');
      // A file that does not fit says why.
      await page.setInputFiles('[data-testid="train-file"]', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y\n1,0\n2,oops\n') });
      await page.waitForSelector('[data-testid="train-message"]');
      const m = (await texts(page, 'train-message'))[0];
      assert(/row 3/.test(m), `the message names the row: ${m}`);
    },
  },
];

flows.push({
  name: '"Apply both, choose best": seed 000\'s pair, the larger model overfits',
  async run(page, { base }) {
    await open(page, base);
    await openTrain(page);
    await page.click('[data-testid="train-apply-both"]');
    // The page opens seed 000 (A: 3,601 params) and its Flatten partner (B: 9,301).
    await waitText(page, 'total-params', '3601');
    await page.waitForFunction(() => document.querySelector('.tr-lead').textContent.includes('preset seed000'));
    await page.click('[data-testid="train-start"]');
    await waitEpochs(page, 60, 120000);
    const num = async (t) => Number((await texts(page, t))[0]);
    const [la, va, lb, vb] = [await num('train-loss-a'), await num('train-val-loss-a'), await num('train-loss-b'), await num('train-val-loss-b')];
    assert(lb < la, `B fits its training data better: ${lb} vs ${la}`);
    assert(vb - lb > 2 * Math.max(va - la, 0) && vb - lb > 0.1, `B's validation gap ${vb - lb} should dwarf A's ${va - la}`);
  },
});

flows.push({
  name: 'phone (390 px): the Train panel is a bottom sheet that trains, with no sideways scroll',
  viewport: { width: 390, height: 844 },
  touch: true,
  async run(page, { base, artifacts }) {
    await open(page, base);
    await page.tap('[data-testid="open-train"]');
    await page.waitForSelector('[data-testid="train-panel"]');
    await fill(page, 'train-epochs', 3);
    await page.tap('[data-testid="train-start"]');
    await waitEpochs(page, 3);
    const box = await page.$eval('[data-testid="train-panel"]', (e) => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.bottom]; });
    assert(box[0] >= 0 && box[1] <= 390 && Math.abs(box[2] - 844) < 2, `the sheet sits at the bottom, full width: ${box}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 2, `page is ${overflow}px wider than the viewport`);
    const small = await page.$$eval('[data-testid="train-panel"] button, [data-testid="train-panel"] input, [data-testid="train-panel"] select',
      (els) => els.filter((e) => e.getBoundingClientRect().height > 0 && e.getBoundingClientRect().height < 44 && e.type !== 'file').map((e) => e.dataset.testid || e.textContent));
    assert(small.length === 0, `touch targets under 44 px: ${small}`);
    await page.screenshot({ path: path.join(artifacts, 'train-phone.png') });
  },
});

/// An .npy (version 1.0, little-endian float32, C order) of `shape` holding `values`.
function npy(shape, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 11, ' ') + '\n';
  const head = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.alloc(2), Buffer.from(header, 'latin1')]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(new Float32Array(values).buffer)]);
}

/// A stored zip (what np.savez writes) of `files`: [name, Buffer].
function zip(files) {
  const crcTable = [...Array(256)].map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b) => { let c = ~0; for (const x of b) c = crcTable[(c ^ x) & 255] ^ (c >>> 8); return ~c >>> 0; };
  const local = []; const central = []; let offset = 0;
  for (const [name, data] of files) {
    const n = Buffer.from(name);
    const h = Buffer.alloc(30); h.writeUInt32LE(0x04034b50, 0); h.writeUInt16LE(10, 4); h.writeUInt32LE(crc(data), 14);
    h.writeUInt32LE(data.length, 18); h.writeUInt32LE(data.length, 22); h.writeUInt16LE(n.length, 26);
    const c = Buffer.alloc(46); c.writeUInt32LE(0x02014b50, 0); c.writeUInt16LE(10, 4); c.writeUInt16LE(10, 6); c.writeUInt32LE(crc(data), 16);
    c.writeUInt32LE(data.length, 20); c.writeUInt32LE(data.length, 24); c.writeUInt16LE(n.length, 28); c.writeUInt32LE(offset, 42);
    local.push(h, n, data); central.push(c, n); offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22); end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

flows.push({
  name: 'a .npy table and an .npz with x and y train',
  async run(page, { base }) {
    await open(page, base);
    await openTrain(page);
    let s = 3;
    const r = () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; };
    const rows = [...Array(150)].map(() => { const v = [r(), r(), r(), r(), r(), r()]; return [...v, v[0] + v[1] > v[4] + v[5] ? 1 : 0]; });
    // A table: 150 rows × 7 columns (6 x values, the label last).
    await page.setInputFiles('[data-testid="train-file"]', { name: 'table.npy', mimeType: 'application/octet-stream', buffer: npy([150, 7], rows.flat()) });
    await page.waitForSelector('[data-testid="train-y-col"]');
    await fill(page, 'train-epochs', 2);
    await page.click('[data-testid="train-start"]');
    await waitEpochs(page, 2);
    await waitText(page, 'train-panel', 'table.npy:120trainingsamples30forvalidation');
    // Arrays x (150, 3, 2) and y (150,), as np.savez(path, x=x, y=y) writes them.
    const npz = zip([['x.npy', npy([150, 3, 2], rows.flatMap((v) => v.slice(0, 6)))], ['y.npy', npy([150], rows.map((v) => v[6]))]]);
    await page.setInputFiles('[data-testid="train-file"]', { name: 'xy.npz', mimeType: 'application/octet-stream', buffer: npz });
    await waitText(page, 'train-arrays', 'x[15032]y[150]');
    await page.click('[data-testid="train-start"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]').textContent.includes('xy.npz: 120 training samples'));
    await waitEpochs(page, 2);
  },
});

flows.push({
  name: 'digits: Flatten (B) beats a Dense per row then averaging (A)',
  async run(page, { base }) {
    await open(page, base);
    await openTrain(page);
    await page.click('[data-testid="train-digits-pair"]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="layer-class"]')].map((e) => e.textContent.trim()).join() === 'Dense,GlobalAveragePooling1D,Dense');
    await page.click('[data-testid="train-start"]');
    await waitEpochs(page, 15, 120000);
    const a = pct((await texts(page, 'train-val-acc-a'))[0]);
    const b = pct((await texts(page, 'train-val-acc-b'))[0]);
    assert(b > a && b > 85, `B's validation accuracy ${b} % should pass A's ${a} %`);
  },
});
