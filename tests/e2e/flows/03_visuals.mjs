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
];
