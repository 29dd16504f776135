// Playground flows (issue 5): drag from the palette with a real pointer sequence, reorder by
// dragging, keyboard add / move / delete, editing units, an invalid Conv2D and its fix,
// undo / redo, reload restoring the autosave, and building seed 004 by dragging.
import { open, texts, waitTexts, waitText, assert, SEED, classes, center } from '../lib.mjs';

/// Drag with a real pointer sequence (down, several moves, up) from `from` to (x, y).
async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) {
    await page.mouse.move(from.x + ((to.x - from.x) * i) / 8, from.y + ((to.y - from.y) * i) / 8);
  }
}

async function paletteItem(page, cls) {
  const sel = `[data-testid="palette-item"][data-class="${cls}"]`;
  await page.waitForSelector(sel, { state: 'attached' });
  return sel;
}

export const flows = [
  {
    name: 'drag Dropout from the palette between the first two cards',
    async run(page, { base }) {
      await open(page, base);
      const from = await center(page, await paletteItem(page, 'Dropout'));
      const c0 = await center(page, '[data-testid="layer-card"]', 0);
      const c1 = await center(page, '[data-testid="layer-card"]', 1);
      await drag(page, from, { x: c0.x, y: (c0.box.y + c0.box.height + c1.box.y) / 2 });
      await page.waitForSelector('[data-testid="drop-indicator"]');
      await page.mouse.up();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 5);
      const cls = await classes(page);
      assert(cls[1] === 'Dropout', `expected Dropout second, got ${cls}`);
      await waitTexts(page, 'output-shape', ['(None, 3, 16)', '(None, 3, 16)', '(None, 3, 16)', '(None, 48)', '(None, 4)']);
      await waitText(page, 'total-params', '244');
    },
  },
  {
    name: 'reorder: drag Flatten to the top changes the shapes below',
    async run(page, { base }) {
      await open(page, base);
      const from = await center(page, '[data-testid="layer-card"]', 2);
      const c0 = await center(page, '[data-testid="layer-card"]', 0);
      await drag(page, from, { x: c0.x, y: c0.box.y + 4 });
      await page.waitForSelector('[data-testid="drop-indicator"]');
      await page.mouse.up();
      await page.waitForFunction(() => document.querySelector('[data-testid="layer-card"] [data-testid="layer-class"]')?.textContent.trim() === 'Flatten');
      await waitTexts(page, 'output-shape', ['(None, 6)', '(None, 16)', '(None, 16)', '(None, 4)']);
      await waitText(page, 'total-params', '180');
    },
  },
  {
    name: 'drag a card out of the stack deletes it',
    async run(page, { base }) {
      await open(page, base);
      const from = await center(page, '[data-testid="layer-card"]', 1);
      const vp = page.viewportSize();
      await drag(page, from, { x: vp.width - 5, y: vp.height - 5 });
      await page.mouse.up();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 3);
      assert(JSON.stringify(await classes(page)) === JSON.stringify(['Dense', 'Flatten', 'Dense']), `got ${await classes(page)}`);
    },
  },
  {
    name: 'keyboard: Enter adds from the palette, Alt+ArrowUp moves, Delete removes',
    async run(page, { base }) {
      await open(page, base);
      await page.focus(await paletteItem(page, 'Dropout'));
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 5);
      let cls = await classes(page);
      assert(cls[4] === 'Dropout', `Enter should append Dropout: ${cls}`);
      const cards = await page.$$('[data-testid="layer-card"]');
      await cards[4].focus();
      await page.keyboard.press('Alt+ArrowUp');
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="layer-card"] [data-testid="layer-class"]')][3]?.textContent.trim() === 'Dropout');
      // Focus stays on the moved card: Delete removes it.
      await page.keyboard.press('Delete');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 4);
      await waitTexts(page, 'output-shape', SEED);
      const focusVisible = await page.evaluate(() => !!document.activeElement && document.activeElement !== document.body);
      assert(focusVisible, 'focus is lost after Delete');
    },
  },
  {
    name: 'editing units of the first Dense updates the shapes and counts below; undo / redo',
    async run(page, { base }) {
      await open(page, base);
      await page.click('[data-testid="layer-card"] [data-testid="layer-name"]');
      await page.waitForSelector('[data-testid="inspector"] [data-testid="field-units"]');
      await page.fill('[data-testid="field-units"]', '8');
      await page.press('[data-testid="field-units"]', 'Enter');
      await waitTexts(page, 'output-shape', ['(None, 3, 8)', '(None, 3, 8)', '(None, 24)', '(None, 4)']);
      await waitTexts(page, 'param-count', ['24', '0', '0', '100']);
      await waitText(page, 'total-params', '124');
      await page.click('[data-testid="undo"]');
      await waitTexts(page, 'output-shape', SEED);
      await waitText(page, 'total-params', '244');
      await page.click('[data-testid="redo"]');
      await waitText(page, 'total-params', '124');
      // Keyboard shortcuts too (focus outside text fields).
      await page.click('h1, header', { position: { x: 2, y: 2 } }).catch(() => {});
      await page.keyboard.press('Control+z');
      await waitText(page, 'total-params', '244');
      await page.keyboard.press('Control+Shift+z');
      await waitText(page, 'total-params', '124');
    },
  },
  {
    name: 'invalid input in the inspector is shown at the field and not applied',
    async run(page, { base }) {
      await open(page, base);
      await page.click('[data-testid="layer-card"] [data-testid="layer-name"]');
      await page.fill('[data-testid="field-units"]', '-3');
      await page.press('[data-testid="field-units"]', 'Enter');
      await page.waitForSelector('[data-testid="inspector"] [role="alert"], [data-testid="field-error"]');
      await waitTexts(page, 'output-shape', SEED);
      // In the learner's terms, with a valid example; a huge value is not a Rust type error.
      const said = async () => (await page.textContent('[data-testid="inspector"]')).replace(/\s+/g, ' ');
      assert(/units cannot be negative \(-3\); for example 16/.test(await said()), `message: ${await said()}`);
      await page.fill('[data-testid="field-units"]', '1000000000000');
      await page.press('[data-testid="field-units"]', 'Enter');
      await page.waitForFunction(() => /units is too large \(1,000,000,000,000\)/.test(document.querySelector('[data-testid="inspector"]').textContent));
      assert(!/usize|expected u|i64/.test(await said()), `message: ${await said()}`);
      await page.fill('[data-testid="input-shape"]', '(3, -2)');
      await page.press('[data-testid="input-shape"]', 'Enter');
      await page.waitForFunction(() => /`-2` is not a size: write whole numbers of at least 1/.test(document.body.textContent));
      await waitTexts(page, 'output-shape', SEED);
    },
  },
  {
    name: 'an invalid Conv2D on the (3, 2) input shows the error and clears when fixed',
    async run(page, { base }) {
      await open(page, base);
      // Select the first card: Enter on a palette item then inserts right after it.
      await page.click('[data-testid="layer-card"] [data-testid="layer-name"]');
      await page.focus(await paletteItem(page, 'Conv2D'));
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="layer-error"]');
      const err = (await texts(page, 'layer-error')).join(' ');
      assert(/Conv2D/.test(err) && /3-D input/.test(err) && /\(None, 3, 16\)/.test(err), `error text: ${err}`);
      assert((await classes(page))[1] === 'Conv2D', `Conv2D should be second: ${await classes(page)}`);
      // The layer before it is still correct; the ones after it are not computed.
      const shapes = await texts(page, 'output-shape');
      assert(shapes[0] === '(None, 3, 16)', `first card ${shapes[0]}`);
      const notComputed = await page.$$('[data-testid="not-computed"]');
      assert(notComputed.length === 3, `expected 3 not-computed cards, got ${notComputed.length}`);
      // The total counts only what computed, and says so.
      await page.waitForSelector('[data-testid="total-incomplete"]');
      // Fix it: Conv2D first, on an image input (3, 3, 1).
      const cards = await page.$$('[data-testid="layer-card"]');
      await cards[1].focus();
      await page.keyboard.press('Alt+ArrowUp');
      await page.fill('[data-testid="input-shape"]', '(3, 3, 1)');
      await page.press('[data-testid="input-shape"]', 'Enter');
      await page.waitForFunction(() => !document.querySelector('[data-testid="layer-error"]'));
      await waitTexts(page, 'output-shape', ['(None, 1, 1, 32)', '(None, 1, 1, 16)', '(None, 1, 1, 16)', '(None, 16)', '(None, 4)']);
      assert(!(await page.$('[data-testid="total-incomplete"]')), 'the total still says incomplete');
    },
  },
  {
    name: 'reload restores the autosaved stack',
    async run(page, { base }) {
      await open(page, base);
      await page.focus(await paletteItem(page, 'Dropout'));
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 5);
      await page.reload();
      await page.waitForSelector('[data-testid="layer-card"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 5);
      await page.click('[data-testid="reset"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 4);
    },
  },
  {
    name: 'build the seed 004 models by dragging: 13,698 and 58,498',
    async run(page, { base }) {
      await open(page, base);
      // Start from an empty stack with input (2, 15, 1).
      for (let n = 4; n > 0; n--) {
        const cards = await page.$$('[data-testid="layer-card"]');
        await cards[0].focus();
        await page.keyboard.press('Delete');
        await page.waitForFunction((k) => document.querySelectorAll('[data-testid="layer-card"]').length === k, n - 1);
      }
      await page.fill('[data-testid="input-shape"]', '(2, 15, 1)');
      await page.press('[data-testid="input-shape"]', 'Enter');
      const addByDrag = async (cls) => {
        const from = await center(page, await paletteItem(page, cls));
        const end = await center(page, '[data-testid="stack-end"]');
        await drag(page, from, end);
        await page.mouse.up();
      };
      const setField = async (index, key, value) => {
        const names = await page.$$('[data-testid="layer-card"] [data-testid="layer-name"]');
        await names[index].click();
        const sel = `[data-testid="inspector"] [data-testid="field-${key}"]`;
        await page.waitForSelector(sel);
        const tag = await page.$eval(sel, (e) => e.tagName);
        if (tag === 'SELECT') await page.selectOption(sel, value);
        else { await page.fill(sel, value); await page.press(sel, 'Enter'); }
      };
      const plan = [['Conv2D', { filters: '32', kernel_size: '2, 1', activation: 'relu' }], ['Dense', { units: '100', activation: 'relu' }],
        ['Dropout', { rate: '0.2' }], ['Dense', { units: '100', activation: 'relu' }], ['Dropout', { rate: '0.2' }], ['Dense', { units: '2', activation: 'softmax' }]];
      for (let i = 0; i < plan.length; i++) {
        await addByDrag(plan[i][0]);
        await page.waitForFunction((k) => document.querySelectorAll('[data-testid="layer-card"]').length === k, i + 1);
        for (const [k, v] of Object.entries(plan[i][1])) await setField(i, k, v);
      }
      await waitText(page, 'total-params', '13698');
      // Now the Flatten after the Conv2D: drag it between card 0 and card 1.
      const from = await center(page, await paletteItem(page, 'Flatten'));
      const c0 = await center(page, '[data-testid="layer-card"]', 0);
      const c1 = await center(page, '[data-testid="layer-card"]', 1);
      await drag(page, from, { x: c0.x, y: (c0.box.y + c0.box.height + c1.box.y) / 2 });
      await page.mouse.up();
      await waitText(page, 'total-params', '58498');
    },
  },
];
