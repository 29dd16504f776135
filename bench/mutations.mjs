// What an edit changes in the DOM: the mutation records of one `units` edit on a 50-layer
// stack (as in bench/browser.mjs), by kind and by target, for the edit's frame and for the
// visuals' frame that follows. Usage: node bench/mutations.mjs [DIST] [LAYERS]
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve, root, openStack, launch } from './server.mjs';

const dist = path.resolve(process.argv[2] || path.join(root, 'bench', 'dist'));
const LAYERS = Number(process.argv[3] || 50);
const { server, base } = await serve({ dist });
const browser = await launch(chromium);
const { page } = await openStack(browser, base, LAYERS);
await page.waitForTimeout(300);
const out = await page.evaluate(async () => {
  const input = document.querySelector('[data-testid="field-units"]');
  const describe = (n) => {
    const e = n.nodeType === 1 ? n : n.parentElement;
    if (!e) return '?';
    const t = e.closest('[data-testid]');
    return `${e.tagName.toLowerCase()}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''} in ${t ? t.dataset.testid : 'page'}`;
  };
  const runs = [];
  for (const units of [47, 48]) {
    const recs = [];
    const mo = new MutationObserver((l) => recs.push(...l.map((r) => ({ phase: 'edit', r }))));
    mo.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    input.value = String(units);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((r) => requestAnimationFrame(r));
    recs.push(...mo.takeRecords().map((r) => ({ phase: 'edit', r })));
    const nEdit = recs.length;
    await new Promise((r) => setTimeout(r, 300));
    recs.push(...mo.takeRecords().map((r) => ({ phase: 'later', r })));
    mo.disconnect();
    const by = {};
    recs.forEach(({ phase, r }, i) => {
      const k = `${i < nEdit ? 'edit ' : 'later'} ${r.type}${r.attributeName ? '[' + r.attributeName + ']' : ''} ${describe(r.target)}`;
      by[k] = (by[k] || 0) + 1;
    });
    runs.push({ edit: nEdit, later: recs.length - nEdit, by });
  }
  return runs;
});
for (const r of out) {
  console.log(`edit frame: ${r.edit} records, later: ${r.later}`);
  for (const [k, v] of Object.entries(r.by).sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${String(v).padStart(4)}  ${k}`);
}
await browser.close();
server.close();
