// Foundation: the default (seed) model's rows and totals, and the README screenshots.
import path from 'node:path';
import { open, waitTexts, waitText } from '../lib.mjs';

export const flows = [
  {
    name: 'default model shows the seed rows and 244 params',
    async run(page, { base, artifacts }) {
      await open(page, base);
      await waitTexts(page, 'output-shape', ['(None, 3, 16)', '(None, 3, 16)', '(None, 48)', '(None, 4)']);
      await waitTexts(page, 'param-count', ['48', '0', '0', '196']);
      await waitText(page, 'total-params', '244');
      await page.screenshot({ path: path.join(artifacts, 'desktop.png'), fullPage: false });
    },
  },
  {
    name: 'phone layout (375 px) shows the same rows',
    viewport: { width: 375, height: 812 },
    touch: true,
    async run(page, { base, artifacts }) {
      await open(page, base);
      await waitTexts(page, 'output-shape', ['(None, 3, 16)', '(None, 3, 16)', '(None, 48)', '(None, 4)']);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 2) throw new Error(`page is ${overflow}px wider than the 375px viewport`);
      await page.screenshot({ path: path.join(artifacts, 'mobile-375.png'), fullPage: false });
    },
  },
];
