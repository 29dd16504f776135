// Helpers shared by the e2e flows: wait on selectors, never sleep.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/// The default (seed) model's output shapes, top to bottom.
export const SEED = ['(None, 3, 16)', '(None, 3, 16)', '(None, 48)', '(None, 4)'];

/// The layer classes of the stack's cards, top to bottom.
export async function classes(page) {
  return page.$$eval('[data-testid="layer-card"] [data-testid="layer-class"]', (els) => els.map((e) => e.textContent.trim()));
}

/// The centre of the `index`-th element matching `selector`, scrolled into view, and its box.
export async function center(page, selector, index = 0) {
  const el = (await page.$$(selector))[index];
  assert(el, `no element ${selector} #${index}`);
  await el.scrollIntoViewIfNeeded();
  const b = await el.boundingBox();
  return { x: b.x + b.width / 2, y: b.y + b.height / 2, box: b };
}

/// Drop a text file named `name` on the page (dragover, then drop), as from a file manager.
export async function dropFile(page, name, text, type = 'text/x-python') {
  const dt = await page.evaluateHandle(([n, t, ty]) => {
    const d = new DataTransfer();
    d.items.add(new File([t], n, { type: ty }));
    return d;
  }, [name, text, type]);
  await page.dispatchEvent('main', 'dragover', { dataTransfer: dt });
  return async () => page.dispatchEvent('main', 'drop', { dataTransfer: dt });
}
export async function open(page, base, hash = '') {
  await page.goto(base + hash);
  await page.waitForSelector('[data-testid="layer-card"]');
}

export async function texts(page, testid) {
  return page.$$eval(`[data-testid="${testid}"]`, (els) => els.map((e) => e.textContent.trim()));
}

export async function waitTexts(page, testid, expected) {
  await page.waitForFunction(([t, want]) => {
    const got = [...document.querySelectorAll(`[data-testid="${t}"]`)].map((e) => e.textContent.trim());
    return JSON.stringify(got) === JSON.stringify(want);
  }, [testid, expected]).catch(async () => {
    throw new Error(`${testid}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(await texts(page, testid))}`);
  });
}

export async function waitText(page, testid, expected) {
  await page.waitForFunction(([t, want]) => {
    const e = document.querySelector(`[data-testid="${t}"]`);
    return e && e.textContent.replace(/[,\s]/g, '').includes(want);
  }, [testid, String(expected)]).catch(async () => {
    throw new Error(`${testid}: expected ${expected}, got ${JSON.stringify(await texts(page, testid))}`);
  });
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/// The native CLI (built by `cargo test` before the e2e run in scripts/test; built here when
/// the suite runs alone).
export function cli(args) {
  const bin = path.join(repo, 'target', 'debug', 'flatland');
  if (!fs.existsSync(bin)) execFileSync('cargo', ['build', '-q', '--bin', 'flatland'], { cwd: repo, stdio: 'inherit' });
  return execFileSync(bin, args, { cwd: repo, encoding: 'utf8' });
}

/// A float32 `.npy` (format 1.0, C order).
export function writeNpy(file, shape, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93]).copy(head, 0);
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => data.writeFloatLE(v, i * 4));
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

/// The values of a float32 `.npy`.
export function readNpy(file) {
  const b = fs.readFileSync(file);
  assert(b.subarray(1, 6).toString('latin1') === 'NUMPY', `${file} is not .npy`);
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString('latin1');
  assert(header.includes("'<f4'"), `${file}: ${header}`);
  const out = [];
  for (let o = 10 + len; o + 4 <= b.length; o += 4) out.push(b.readFloatLE(o));
  return out;
}

/// Page-side number text (Unicode minus, thousands commas) to a number.
export const num = (s) => Number(s.replace('−', '-').replace(/,/g, ''));

/// The last layer's forward values (its heat map, read cell by cell with the keyboard): the
/// first `n` values of the first sample.
export async function readLastOutput(page, n) {
  const view = page.locator('[data-testid="tensor-view"]').last();
  const canvas = view.locator('[data-testid="heat-canvas"]');
  await canvas.scrollIntoViewIfNeeded();
  await canvas.focus();
  await page.keyboard.press('Home');
  const got = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(([el, i]) => new RegExp(`\\[${i}\\] = `).test(el.textContent), [await view.locator('[data-testid="heat-readout"]').elementHandle(), i]);
    got.push(num((await view.locator('[data-testid="heat-readout"]').textContent()).split(' = ')[1]));
  }
  return got;
}
