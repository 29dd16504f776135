// Flows the other issues name that 01–04 do not drive end to end (issue 8: the suite covers
// every user flow): a touch drag on a phone, palette search, the duplicate button, "copy as
// text" against the CLI's `flatland summary`, dark mode; the Dense diagram's stepping and
// auto-play, the forward values against the CLI's `flatland forward` (same model, input and
// weights seed), editing the example input and new weights, A/B compare's "Make B", and the
// convolution window view.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, texts, waitTexts, waitText, assert, SEED, classes, center, cli, writeNpy, readNpy, num, readLastOutput } from '../lib.mjs';

/// A touch drag through the browser's input pipeline (touchstart / moves / end become pointer
/// events of type "touch", as on a phone).
async function touchDrag(page, from, to) {
  const cdp = await page.context().newCDPSession(page);
  const at = (x, y) => [{ x, y, radiusX: 4, radiusY: 4, force: 1, id: 0 }];
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(from.x, from.y) });
  for (let i = 1; i <= 10; i++) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(from.x + ((to.x - from.x) * i) / 10, from.y + ((to.y - from.y) * i) / 10) });
  }
  return async () => {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
  };
}

export const flows = [
  {
    name: 'phone: a touch drag by the grip moves Flatten to the top; a swipe elsewhere scrolls, not drags',
    viewport: { width: 375, height: 812 },
    touch: true,
    async run(page, { base }) {
      await open(page, base);
      // Card 0 near the top, so that card 2's grip is above the sticky totals line.
      await page.evaluate(() => window.scrollBy(0, document.querySelector('[data-testid="layer-card"]').getBoundingClientRect().top - 60));
      const c0 = (await page.$('[data-testid="layer-card"]').then((e) => e.boundingBox()));
      const grip = (await page.$$('[data-testid="layer-card"] .grip').then((g) => g[2].boundingBox()));
      const totals = await page.$eval('.totals', (e) => e.getBoundingClientRect().top);
      assert(grip.y + grip.height < totals, 'the grip of card 2 is under the totals line');
      assert(grip.y + grip.height < 812 && c0.y >= 0, 'card 0 and the grip of card 2 are not both on screen');
      const end = await touchDrag(page, { x: grip.x + grip.width / 2, y: grip.y + grip.height / 2 }, { x: c0.x + c0.width / 2, y: c0.y + 4 });
      await page.waitForSelector('[data-testid="drop-indicator"]');
      await end();
      await page.waitForFunction(() => document.querySelector('[data-testid="layer-card"] [data-testid="layer-class"]')?.textContent.trim() === 'Flatten');
      await waitTexts(page, 'output-shape', ['(None, 6)', '(None, 16)', '(None, 16)', '(None, 4)']);
      // A swipe on a card's body (not its grip) is the page's: the stack stays as it is.
      const c1 = (await center(page, '[data-testid="layer-card"]', 1)).box;
      const endSwipe = await touchDrag(page, { x: c1.x + c1.width - 20, y: c1.y + c1.height / 2 }, { x: c1.x + c1.width - 20, y: c1.y + c1.height / 2 - 150 });
      await endSwipe();
      assert(JSON.stringify(await classes(page)) === JSON.stringify(['Flatten', 'Dense', 'Activation', 'Dense']), `swipe changed the stack: ${await classes(page)}`);
      assert((await page.$$('[data-testid="drop-indicator"]')).length === 0, 'a drop indicator is left after the swipe');
    },
  },
  {
    name: 'keyboard: the first Tab stop skips to the model; the Flatten preview says the model is unchanged',
    async run(page, { base }) {
      await open(page, base);
      await page.keyboard.press('Tab');
      const first = await page.evaluate(() => document.activeElement?.dataset.testid);
      assert(first === 'skip-stack', `the first Tab stop is ${first}`);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'stack');
      assert(!(await page.evaluate(() => location.hash)).startsWith('#stack'), 'the skip link wrote the address bar');
      assert(!(await page.$('[data-testid="link-error"]')), 'the skip link was read as a model link');
      await page.click('[data-testid="flatten-toggle"]');
      await page.waitForSelector('[data-testid="flatten-preview"]');
      await waitTexts(page, 'output-shape', SEED);
    },
  },
  {
    name: 'palette search narrows the list to the match; the duplicate button copies a card',
    async run(page, { base }) {
      await open(page, base);
      const all = (await page.$$('[data-testid="palette-item"]')).length;
      await page.fill('[data-testid="palette-search"]', 'lstm');
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="palette-item"]')].filter((e) => e.offsetParent !== null).length === 1);
      const shown = await page.$$eval('[data-testid="palette-item"]', (els) => els.filter((e) => e.offsetParent !== null).map((e) => e.dataset.class));
      assert(JSON.stringify(shown) === '["LSTM"]', `search "lstm" shows ${shown}`);
      // Enter in the search adds the top match (at the end: nothing is selected).
      await page.press('[data-testid="palette-search"]', 'Enter');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 5);
      assert((await classes(page))[4] === 'LSTM', `Enter added ${await classes(page)}`);
      await page.click('[data-testid="undo"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 4);
      await page.fill('[data-testid="palette-search"]', '');
      await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="palette-item"]')].length === n, all);
      // Duplicate the first Dense: same settings, same shape, its own name.
      await page.click('[data-testid="layer-card"] >> nth=0 >> [data-testid="duplicate-layer"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 5);
      const names = await texts(page, 'layer-name');
      assert(names[0] !== names[1], `the copy has the same name: ${names}`);
      assert(JSON.stringify((await classes(page)).slice(0, 2)) === '["Dense","Dense"]', 'the copy is not a Dense');
      const settings = await texts(page, 'layer-settings');
      assert(settings[0] === settings[1], `settings differ: ${settings[0]} vs ${settings[1]}`);
    },
  },
  {
    name: 'copy as text puts exactly what `flatland summary` prints on the clipboard',
    async run(page, { base }) {
      await open(page, base);
      await page.click('[data-testid="copy-summary"]');
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      const printed = cli(['summary']);
      assert(copied.trimEnd() === printed.trimEnd(), `clipboard:\n${copied}\nCLI:\n${printed}`);
      assert(/Total params: 244/.test(copied.replace(/,/g, '')), `no 244 total in:\n${copied}`);
    },
  },
  {
    name: 'dark mode follows prefers-color-scheme',
    async run(page, { base }) {
      const luminance = async () => page.evaluate(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
      });
      await page.emulateMedia({ colorScheme: 'light' });
      await open(page, base);
      const light = await luminance();
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction((l) => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < l - 0.4;
      }, light);
      const dark = await luminance();
      assert(light > 0.8 && dark < 0.3, `body luminance light ${light.toFixed(2)}, dark ${dark.toFixed(2)}`);
      await waitTexts(page, 'output-shape', SEED);
    },
  },
  {
    name: 'Dense diagram: Next / Prev step through the 3 positions, auto-play moves on its own and pauses',
    async run(page, { base }) {
      await open(page, base);
      await page.waitForSelector('[data-testid="dense-step-text"]');
      const step = async () => (await texts(page, 'dense-step-text'))[0];
      assert((await step()).startsWith('position 1 of 3: [1, 2]'), `first step: ${await step()}`);
      await page.click('[data-testid="dense-step-next"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="dense-step-text"]').textContent.startsWith('position 2 of 3: [3, 4]'));
      await page.click('[data-testid="dense-step-next"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="dense-step-text"]').textContent.startsWith('position 3 of 3: [5, 6]'));
      await page.click('[data-testid="dense-step-prev"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="dense-step-text"]').textContent.startsWith('position 2 of 3'));
      // The same kernel at every position: the kernel drawn does not change while stepping.
      const kernel = await page.$eval('[data-testid="dense-kernel"]', (e) => e.textContent);
      await page.click('[data-testid="dense-step-play"]');
      assert(await page.getAttribute('[data-testid="dense-step-play"]', 'aria-pressed') === 'true', 'play is not pressed');
      await page.waitForFunction(() => document.querySelector('[data-testid="dense-step-text"]').textContent.startsWith('position 3 of 3'));
      await page.waitForFunction(() => document.querySelector('[data-testid="dense-step-text"]').textContent.startsWith('position 1 of 3'));
      await page.click('[data-testid="dense-step-play"]');
      assert(await page.getAttribute('[data-testid="dense-step-play"]', 'aria-pressed') === 'false', 'pause did not take');
      assert(await page.$eval('[data-testid="dense-kernel"]', (e) => e.textContent) === kernel, 'the kernel changed while stepping');
    },
  },
  {
    name: 'forward values equal `flatland forward` for the same model, input and weights seed; edits and new weights recompute',
    async run(page, { base }) {
      await open(page, base);
      const weightsSeed = async () => Number((await page.evaluate(() => document.body.textContent.match(/weights seed (\d+)/)?.[1])) ?? NaN);
      await page.waitForSelector('[data-testid="new-weights"]');
      const seed = await weightsSeed();
      assert(Number.isInteger(seed), 'no weights seed shown');
      const example = await page.inputValue('[data-testid="example-input"]');
      const x = JSON.parse(example);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flatland-e2e-'));
      writeNpy(path.join(dir, 'x.npy'), [1, x.length, x[0].length], x.flat());
      cli(['forward', '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy'), '--seed', String(seed)]);
      const want = readNpy(path.join(dir, 'y.npy'));
      const read = () => readLastOutput(page, want.length);
      const got = await read();
      assert(want.length === 4, `CLI output has ${want.length} values`);
      want.forEach((w, i) => assert(Math.abs(got[i] - w) <= 5e-5 + 1e-4 * Math.abs(w), `output ${i}: page ${got[i]}, CLI ${w}`));
      // Another input: the numbers follow (and the Dense diagram shows the new first row).
      await page.fill('[data-testid="example-input"]', '[[7, 8], [3, 4], [5, 6]]');
      await page.waitForFunction(() => document.querySelector('[data-testid="dense-step-text"]').textContent.startsWith('position 1 of 3: [7, 8]'));
      const afterInput = await read();
      assert(afterInput.some((v, i) => Math.abs(v - got[i]) > 1e-3), 'the output did not change with the input');
      // A malformed input is reported there, and the stack keeps working.
      await page.fill('[data-testid="example-input"]', '[[7, 8], [3, 4');
      await page.waitForSelector('[data-testid="forward-error"]');
      await waitTexts(page, 'output-shape', SEED);
      await page.fill('[data-testid="example-input"]', example);
      await page.waitForSelector('[data-testid="forward-error"]', { state: 'detached' });
      // New weights: another seed, other numbers, and the CLI agrees again.
      await page.click('[data-testid="new-weights"]');
      await page.waitForFunction((s) => !document.body.textContent.includes(`weights seed ${s}`) && /weights seed \d+/.test(document.body.textContent), seed);
      const seed2 = await weightsSeed();
      cli(['forward', '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y2.npy'), '--seed', String(seed2)]);
      const want2 = readNpy(path.join(dir, 'y2.npy'));
      const got2 = await read();
      want2.forEach((w, i) => assert(Math.abs(got2[i] - w) <= 5e-5 + 1e-4 * Math.abs(w), `seed ${seed2} output ${i}: page ${got2[i]}, CLI ${w}`));
      assert(want2.some((v, i) => Math.abs(v - want[i]) > 1e-3), 'new weights gave the same output');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    name: 'A/B compare: "Make B" puts a Flatten before the chosen Dense, "B = A" copies A back',
    async run(page, { base }) {
      await open(page, base);
      await page.waitForSelector('[data-testid="compare-view"]');
      await waitText(page, 'compare-total-a', '244');
      await waitText(page, 'compare-total-b', '244');
      const options = await page.$$eval('[data-testid="compare-dense-select"] option', (os) => os.map((o) => [o.value, o.textContent]));
      const first = options.find(([v, t]) => v !== '' && /dense/i.test(t));
      assert(first, `no Dense to choose: ${JSON.stringify(options)}`);
      await page.selectOption('[data-testid="compare-dense-select"]', first[0]);
      await page.click('[data-testid="compare-flatten"]');
      // B = Input (3, 2) → Flatten → Dense(16): the Dense sees a 6-vector, (6 + 1) × 16 = 112.
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="compare-row"]')].some((r) => /Flatten/.test(r.textContent) && /\(None, 6\)/.test(r.textContent)));
      const rows = await texts(page, 'compare-row');
      assert(rows.some((r) => /112/.test(r)), `no 112-param Dense in B:\n${rows.join('\n')}`);
      const b = num((await texts(page, 'compare-total-b'))[0]);
      assert(b !== 244, 'B total unchanged');
      assert((await texts(page, 'compare-diff'))[0].replace(/[,\s]/g, '').includes(String(Math.abs(b - 244))), `difference not shown: ${await texts(page, 'compare-diff')}`);
      // The playground's model (A) is untouched.
      await waitTexts(page, 'output-shape', SEED);
      await page.click('[data-testid="compare-reset"]');
      await waitText(page, 'compare-total-b', '244');
    },
  },
  {
    name: 'window view: the Conv2D window of seed 004 slides step by step with its stride',
    async run(page, { base }) {
      await open(page, base);
      await page.click('[data-testid="open-presets"]');
      await page.waitForSelector('[data-testid="presets"]');
      await page.click('[data-testid="preset-seed004"]');
      await page.waitForSelector('[data-testid="presets"]', { state: 'detached' });
      await waitText(page, 'total-params', '13698');
      // Select the Conv2D card.
      const i = (await classes(page)).indexOf('Conv2D');
      assert(i >= 0, `no Conv2D in ${await classes(page)}`);
      await page.click(`[data-testid="layer-card"] >> nth=${i} >> [data-testid="layer-class"]`);
      await page.waitForSelector('[data-testid="window-view"]');
      const label = async () => page.$eval('[data-testid="window-view"] svg[role="img"]', (e) => e.getAttribute('aria-label'));
      const status = async () => page.$eval('[data-testid="window-view"] .vz-step-status', (e) => e.textContent);
      const s1 = await status();
      assert(/step 1 of /.test(s1), `status: ${s1}`);
      const l1 = await label();
      await page.click('[data-testid="window-step-next"]');
      await page.waitForFunction((s) => document.querySelector('[data-testid="window-view"] .vz-step-status').textContent !== s, s1);
      assert(/step 2 of /.test(await status()), `status after Next: ${await status()}`);
      assert(await label() !== l1, 'the window did not move');
      const lead = await page.$eval('[data-testid="window-view"] .vz-lead', (e) => e.textContent);
      assert(/Conv2D \(None, 2, 15, 1\) → \(None, 1, 15, 32\)/.test(lead), `window lead: ${lead}`);
    },
  },
];
