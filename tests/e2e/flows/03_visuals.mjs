// Teaching visuals (issue 6): the landing view answers the seed question without a click,
// the Flatten toggle shows 48 → 112, and the seed 004 compare preset shows both totals.
import { open, waitText, texts, assert } from '../lib.mjs';

export const flows = [
  {
    name: 'landing view shows the Dense diagram, forward values and why panel',
    async run(page, { base }) {
      await open(page, base);
      await page.waitForSelector('[data-testid="dense-diagram"]');
      const rows = await page.$$('[data-testid="dense-input-row"]');
      assert(rows.length === 3, `expected 3 position rows, got ${rows.length}`);
      await waitText(page, 'dense-math', '(2+1)×16=48');
      await page.waitForSelector('[data-testid="why-panel"]');
      const tv = await page.$$('[data-testid="tensor-view"]');
      assert(tv.length === 4, `expected a tensor view per layer, got ${tv.length}`);
      await page.click('[data-testid="flatten-toggle"]');
      await waitText(page, 'dense-diagram', '(6+1)×16=112');
      const t = (await texts(page, 'dense-diagram')).join(' ');
      assert(t.includes('6 × 16'), 'flattened kernel 6 × 16 not shown');
    },
  },
  {
    name: 'seed 004 compare preset shows 13,698 vs 58,498',
    async run(page, { base }) {
      await open(page, base);
      await page.click('[data-testid="compare-preset-seed004"]');
      await waitText(page, 'compare-total-a', '13698');
      await waitText(page, 'compare-total-b', '58498');
      await page.click('[data-testid="compare-preset-seed000"]');
      await waitText(page, 'compare-total-a', '3601');
      await waitText(page, 'compare-total-b', '9301');
    },
  },
  {
    name: 'forward values: each heat map is one canvas, read by hover and arrow keys',
    async run(page, { base }) {
      await open(page, base);
      const view = page.locator('[data-testid="tensor-view"]').first();
      const canvas = view.locator('[data-testid="heat-canvas"]');
      const readout = view.locator('[data-testid="heat-readout"]');
      await canvas.waitFor();
      assert(await page.locator('.vz-forward rect').count() === 0, 'heat maps still drawn as SVG cells');
      // The seed's first layer output is (3, 16): cells of 46 × 30 px after a 40 × 20 margin.
      await canvas.scrollIntoViewIfNeeded();
      // Scale of the drawing on screen; hover() waits until the canvas stops moving.
      const k = await canvas.evaluate((c) => c.clientWidth / (c.width / devicePixelRatio));
      await canvas.hover({ position: { x: (40 + 46 * 2 + 23) * k, y: (20 + 30 * 1 + 15) * k } });
      await page.waitForFunction((el) => /^dense output \[1, 2\] = −?\d/.test(el.textContent), await readout.elementHandle());
      await canvas.focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction((el) => /^dense output \[2, 3\] = −?\d/.test(el.textContent), await readout.elementHandle());
      await page.keyboard.press('End');
      await page.waitForFunction((el) => /^dense output \[2, 15\] = /.test(el.textContent), await readout.elementHandle());
      // Drawn once on screen: the cell under the pointer is not blank.
      const alpha = await canvas.evaluate((c) => c.getContext('2d').getImageData(Math.floor(43 * devicePixelRatio), Math.floor(23 * devicePixelRatio), 1, 1).data[3]);
      assert(alpha > 0, 'the heat map was not drawn');
      const label = await canvas.getAttribute('aria-label');
      assert(/^dense output: heat map of 3 × 16 values, from /.test(label), `canvas label: ${label}`);
    },
  },
];
