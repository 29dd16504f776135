// Sharing, presets, exercises and code (issue 7): share links open the same model in a fresh
// profile, broken links fall back with an alert, a link pasted into the open tab (hashchange)
// opens it and Back returns, the built-in exercise shows success when solved, a teacher's
// exercise reaches the student with hidden panels, Keras code and files import, and the
// seed 004 preset opens with its compare partner. Plus the 1280×800 first screen.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, texts, waitTexts, waitText, assert, SEED, dropFile } from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const snippet = (name) => fs.readFileSync(path.join(here, '..', '..', 'fixtures', 'snippets', name), 'utf8');

async function shareLink(page) {
  await page.click('[data-testid="share"]');
  await page.waitForSelector('[data-testid="share-dialog"] [data-testid="share-qr"] svg');
  const link = await page.$eval('[data-testid="share-link"]', (e) => e.value);
  const length = (await texts(page, 'share-length'))[0];
  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid="share-dialog"]', { state: 'detached' });
  return { link, length };
}

async function openPanel(page, button, panel) {
  await page.click(`[data-testid="${button}"]`);
  await page.waitForSelector(`[data-testid="${panel}"]`);
}

/// A page in a fresh profile (new context) at `url`.
async function freshPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('[data-testid="layer-card"]');
  return { context, page, errors };
}

async function goals(page) {
  return page.$$eval('[data-testid="exercise-goal"]', (els) => els.map((e) => e.getAttribute('data-met')));
}

export const flows = [
  {
    name: 'an edited model opens from its share link in a fresh profile',
    async run(page, { base, browser }) {
      await open(page, base);
      // The address bar tracks the model without adding history entries.
      const before = await page.evaluate(() => history.length);
      await page.click('[data-testid="layer-card"] [data-testid="layer-name"]');
      await page.fill('[data-testid="field-units"]', '8');
      await page.press('[data-testid="field-units"]', 'Enter');
      await waitText(page, 'total-params', '124');
      const edited = ['(None, 3, 8)', '(None, 3, 8)', '(None, 24)', '(None, 4)'];
      await waitTexts(page, 'output-shape', edited);
      assert((await page.evaluate(() => history.length)) === before, 'edits must not add history entries');
      const { link, length } = await shareLink(page);
      assert(link.startsWith(base) && link.includes('#m1.'), `share link ${link}`);
      assert(link === (await page.evaluate(() => location.href)), 'the share link is the address bar');
      assert(length === `${link.length} characters`, `length text ${length} for ${link.length}`);
      console.log(`     share link of the edited seed model: ${length} (fragment ${link.length - link.indexOf('#')})`);
      const fresh = await freshPage(browser, link);
      try {
        await waitTexts(fresh.page, 'output-shape', edited);
        await waitText(fresh.page, 'total-params', '124');
        assert(!(await fresh.page.$('[data-testid="link-error"]')), 'no link error');
        assert(!fresh.errors.length, `page errors: ${fresh.errors}`);
      } finally {
        await fresh.context.close();
      }
    },
  },
  {
    name: 'corrupted, truncated and future links show an alert and fall back',
    async run(page, { base }) {
      await open(page, base);
      const good = await page.evaluate(() => location.hash);
      assert(good.startsWith('#m1.'), `fragment ${good}`);
      const truncated = good.slice(0, Math.floor(good.length / 2));
      for (const hash of ['#m1.garbage', truncated, '#m9.x']) {
        await page.goto('about:blank');
        await open(page, base, hash);
        await page.waitForSelector('[role="alert"][data-testid="link-error"]');
        await waitTexts(page, 'output-shape', SEED);
      }
      const msg = (await texts(page, 'link-error'))[0];
      assert(/newer/.test(msg), `future-version message: ${msg}`);
      await page.click('[data-testid="link-error-dismiss"]');
      await page.waitForSelector('[data-testid="link-error"]', { state: 'detached' });
      // With autosaved work, a broken link falls back to it.
      const cards = await page.$$('[data-testid="layer-card"]');
      await cards[1].focus();
      await page.keyboard.press('Delete');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="layer-card"]').length === 3);
      await page.goto('about:blank');
      await open(page, base, '#m1.garbage');
      await page.waitForSelector('[role="alert"][data-testid="link-error"]');
      await waitTexts(page, 'output-shape', ['(None, 3, 16)', '(None, 48)', '(None, 4)']);
      assert(/autosaved/.test((await texts(page, 'link-error'))[0]), 'says it shows the autosave');
      // The address bar holds the working link again.
      assert((await page.evaluate(() => location.hash)).startsWith('#m1.') && (await page.evaluate(() => location.hash)) !== '#m1.garbage', 'fragment restored');
      // A broken link pasted into the open tab keeps the model too.
      await page.click('[data-testid="link-error-dismiss"]');
      await page.waitForSelector('[data-testid="link-error"]', { state: 'detached' });
      await page.evaluate(() => { location.hash = '#m1.AAAA'; });
      await page.waitForSelector('[data-testid="link-error"]');
      await waitTexts(page, 'output-shape', ['(None, 3, 16)', '(None, 48)', '(None, 4)']);
    },
  },
  {
    name: 'a link pasted into the open tab opens it, Back returns',
    async run(page, { base }) {
      await open(page, base);
      await openPanel(page, 'open-presets', 'presets');
      const href = await page.$eval('[data-testid="preset-mnist_mlp"]', (e) => e.getAttribute('href'));
      assert(href.startsWith('#m1.'), `preset link ${href}`);
      await page.keyboard.press('Escape');
      await page.evaluate((h) => { location.hash = h; }, href);
      await waitTexts(page, 'output-shape', ['(None, 512)', '(None, 512)', '(None, 512)', '(None, 512)', '(None, 10)']);
      await waitText(page, 'total-params', '669706');
      await page.goBack();
      await waitTexts(page, 'output-shape', SEED);
      await page.goForward();
      await waitText(page, 'total-params', '669706');
      // Undo goes back too (opening a link is one undoable step).
      await page.click('[data-testid="undo"]');
      await waitTexts(page, 'output-shape', SEED);
    },
  },
  {
    name: 'built-in exercise 0: solve it with the palette and see success',
    async run(page, { base, browser }) {
      await open(page, base);
      await openPanel(page, 'open-presets', 'presets');
      await page.click('[data-testid="exercise-0"]');
      await page.waitForSelector('[data-testid="exercise-checklist"]');
      await waitTexts(page, 'output-shape', ['(None, 3, 16)', '(None, 3, 16)', '(None, 3, 4)']);
      let met = await goals(page);
      assert(JSON.stringify(met) === JSON.stringify(['true', 'false', 'false', 'true']), `goals ${met}`);
      assert(!(await page.$('[data-testid="exercise-success"]')), 'not solved yet');
      // Select the Activation card, then add Flatten right after it.
      const names = await page.$$('[data-testid="layer-card"] [data-testid="layer-name"]');
      await names[1].click();
      await page.click('[data-testid="palette-item"][data-class="Flatten"]');
      await page.waitForSelector('[data-testid="exercise-success"]');
      met = await goals(page);
      assert(met.every((m) => m === 'true'), `goals ${met}`);
      await waitTexts(page, 'output-shape', SEED);
      // The link carries the exercise: a fresh profile sees the same, solved.
      const { link } = await shareLink(page);
      const fresh = await freshPage(browser, link);
      try {
        await fresh.page.waitForSelector('[data-testid="exercise-success"]');
        await waitText(fresh.page, 'exercise-panel', 'OnevectorforDense');
      } finally {
        await fresh.context.close();
      }
    },
  },
  {
    name: 'teacher mode: goals and hidden param counts reach the student',
    async run(page, { base, browser }) {
      await open(page, base);
      await page.click('[data-testid="exercise-mode"]');
      await page.waitForSelector('[data-testid="exercise-editor"]');
      // No goal yet: nothing to congratulate.
      await page.waitForFunction(() => /No goals set yet/.test(document.body.textContent));
      assert(!(await page.$('[data-testid="exercise-success"]')), 'success before any goal exists');
      await page.fill('[data-testid="exercise-title"]', 'Four outputs, no Flatten');
      await page.fill('[data-testid="exercise-target"]', '(None, 4)');
      await page.selectOption('[data-testid="exercise-params-kind"]', 'max');
      await page.fill('[data-testid="exercise-params"]', '200');
      await page.fill('[data-testid="exercise-exclude"]', 'flatten');
      await page.check('[data-testid="exercise-hide-params"]');
      // The teacher still sees the counts, and a live check of the goals.
      await waitText(page, 'total-params', '244');
      await waitTexts(page, 'exercise-goal', ['✓Every layer computes (no errors) (met)', '✓Output shape is (None, 4) (met)', '○At most 200 parameters (not met yet)', '○Does not use Flatten (not met yet)']);
      const { link } = await shareLink(page);
      const fresh = await freshPage(browser, link);
      try {
        const p = fresh.page;
        await p.waitForSelector('[data-testid="exercise-checklist"]');
        await waitText(p, 'exercise-panel', 'FouroutputsnoFlatten');
        assert(!(await p.$('[data-testid="exercise-editor"]')), 'students get the checklist, not the editor');
        await waitTexts(p, 'param-count', ['hidden', 'hidden', 'hidden', 'hidden']);
        await waitTexts(p, 'total-params', ['hidden']);
        await waitTexts(p, 'output-shape', SEED);
        const goalsMet = await goals(p);
        assert(JSON.stringify(goalsMet) === JSON.stringify(['true', 'true', 'false', 'false']), `student goals ${goalsMet}`);
        // Hidden means hidden: no count, formula, MACs or A/B total anywhere, whichever layer is selected.
        await waitTexts(p, 'total-macs', ['hidden']);
        await p.waitForSelector('[data-testid="compare-hidden"]');
        await p.waitForSelector('[data-testid="formulas-hidden"]');
        const cardCount = (await p.$$('[data-testid="layer-card"]')).length;
        for (let i = 0; i < cardCount; i++) {
          await p.locator('[data-testid="layer-card"] [data-testid="layer-class"]').nth(i).click();
          await p.waitForFunction((i) => document.querySelectorAll('[data-testid="layer-card"]')[i].getAttribute('aria-current') === 'true', i);
          const why = await p.textContent('[data-testid="why-panel"]');
          assert(!/params|multiply-adds/.test(why), `layer ${i}: the Why panel gives the count away: ${why}`);
          const text = await p.textContent('main');
          assert(!/\b244\b/.test(text) && !/params = /.test(text), `layer ${i}: a count on the page: ${text.match(/.{40}(244|params = ).{40}/)?.[0]}`);
        }
        // Teacher mode asks first; dismissed, nothing is revealed.
        let asked = '';
        p.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
        await p.click('[data-testid="exercise-mode"]');
        await p.waitForFunction(() => document.querySelector('[data-testid="exercise-mode"]').getAttribute('aria-pressed') === 'false');
        assert(/hides/.test(asked), `no question before teacher mode: ${JSON.stringify(asked)}`);
        assert(!(await p.$('[data-testid="exercise-editor"]')), 'dismissing opened the editor');
        await waitTexts(p, 'total-params', ['hidden']);
        p.once('dialog', (d) => d.accept());
        await p.click('[data-testid="exercise-mode"]');
        await p.waitForSelector('[data-testid="exercise-editor"]');
        await waitText(p, 'total-params', '244');
      } finally {
        await fresh.context.close();
      }
    },
  },
  {
    name: 'paste the seed 004 Keras code, import it: 13,698; errors keep the model; files and export',
    async run(page, { base }) {
      // The Keras code importer and the exporters are a second wasm module (the tools
      // worker): not fetched by the first load, loaded when the Code panel opens.
      const fetched = [];
      page.on('request', (r) => fetched.push(r.url()));
      await open(page, base);
      await page.waitForLoadState('networkidle');
      assert(page.workers().length === 0, `workers before the Code panel: ${page.workers().length}`);
      assert(!fetched.some((u) => u.includes('flatland-tools')), `the first load fetched the tools: ${fetched.filter((u) => u.includes('flatland-tools'))}`);
      await openPanel(page, 'open-code', 'code-panel');
      await waitText(page, 'code-export', 'model=keras.Sequential(');
      // The Code panel is drawn by the tools module, loaded into the page under its
      // content-hashed name (scripts/hash-worker), like the page's own files.
      const h = (fetched.map((u) => u.match(/\/flatland-tools-([0-9a-f]{16})_bg\.wasm$/)).find(Boolean) || [])[1];
      assert(h, `the tools module: ${fetched.filter((u) => u.includes('flatland-tools'))}`);
      await page.fill('[data-testid="code-input"]', snippet('seed004.py'));
      await page.click('[data-testid="code-import"]');
      await page.waitForSelector('[data-testid="code-imported"]');
      // Keras code is read by the tools worker (the same module), started by the import.
      assert(page.workers().length === 1, `workers after the import: ${page.workers().length}`);
      const loader = page.workers()[0].url();
      assert(loader.endsWith(`/flatland-tools-${h}_loader.js`), `worker loader ${loader}`);
      await waitText(page, 'total-params', '13698');
      await waitText(page, 'code-export', 'Conv2D(32(21)');
      await page.click('[data-testid="export-pytorch"]');
      await waitText(page, 'code-export', 'torch');
      // A broken paste shows the error and keeps the model.
      await page.fill('[data-testid="code-input"]', 'model = Sequential()\nmodel.add(Dense(4)');
      await page.click('[data-testid="code-import"]');
      await page.waitForSelector('[data-testid="code-error"]');
      await waitText(page, 'total-params', '13698');
      // A file from the picker.
      await page.setInputFiles('[data-testid="file-input"]', path.join(here, '..', '..', 'fixtures', 'snippets', 'seed000.py'));
      await waitText(page, 'total-params', '3601');
      await page.setInputFiles('[data-testid="file-input"]', { name: 'model.keras', mimeType: 'application/zip', buffer: Buffer.from('PK\u0003\u0004') });
      await waitText(page, 'code-error', 'unzip');
      await waitText(page, 'total-params', '3601');
      const dl = await page.$eval('[data-testid="download-json"]', (a) => [a.getAttribute('download'), decodeURIComponent(a.getAttribute('href'))]);
      assert(dl[0].endsWith('.json') && dl[1].includes('"format"'), `download ${dl[0]}`);
      // Undo brings back the model from before the file import.
      await page.click('[data-testid="dialog-close"]');
      await page.click('[data-testid="undo"]');
      await waitText(page, 'total-params', '13698');
      // A file dropped anywhere on the page is imported too (the worker is reused).
      const drop = await dropFile(page, 'seed004_flatten.py', snippet('seed004_flatten.py'));
      await page.waitForSelector('.file-drop');
      await drop();
      await waitText(page, 'total-params', '58498');
      await page.waitForSelector('.file-drop', { state: 'detached' });
      await waitText(page, 'code-imported', 'seed004_flatten.py');
      assert(page.workers().length === 1, `workers at the end: ${page.workers().length}`);
    },
  },
  {
    name: 'a .py file dropped before the Code panel was ever opened starts the tools worker and imports',
    async run(page, { base }) {
      await open(page, base);
      assert(page.workers().length === 0, 'no worker on load');
      await (await dropFile(page, 'seed004.py', snippet('seed004.py')))();
      await waitText(page, 'total-params', '13698');
      await waitText(page, 'code-imported', 'seed004.py');
      await waitText(page, 'code-export', 'Conv2D(32(21)');
    },
  },
  {
    name: 'preset seed004 opens with its compare partner: 13,698 vs 58,498',
    async run(page, { base }) {
      await open(page, base);
      await openPanel(page, 'open-presets', 'presets');
      const seeds = await page.$$('[data-testid^="preset-seed"]');
      assert(seeds.length === 3, `seed presets: ${seeds.length}`);
      await page.click('[data-testid="preset-seed004"]');
      await page.waitForSelector('[data-testid="presets"]', { state: 'detached' });
      await waitText(page, 'total-params', '13698');
      await waitText(page, 'compare-total-a', '13698');
      await waitText(page, 'compare-total-b', '58498');
      const box = await page.$eval('[data-testid="compare-view"]', (e) => { const r = e.getBoundingClientRect(); return [r.top, innerHeight]; });
      assert(box[0] < box[1], `compare view scrolled into view (${box})`);
      // Undo is one step back to the seed.
      await page.click('[data-testid="undo"]');
      await waitTexts(page, 'output-shape', SEED);
    },
  },
  {
    name: '1280×800 first screen: palette, stack and the Dense diagram with its Flatten toggle',
    viewport: { width: 1280, height: 800 },
    async run(page, { base, artifacts }) {
      await open(page, base);
      await page.waitForSelector('[data-testid="dense-diagram"] svg');
      const inView = (sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; });
      assert(await inView('[data-testid="flatten-toggle"]'), 'flatten toggle in the first screen');
      assert(await inView('[data-testid="dense-diagram"] svg'), 'dense diagram in the first screen');
      assert(await inView('[data-testid="layer-card"]'), 'first card in the first screen');
      assert(await inView('[data-testid="palette-item"][data-class="Dense"]'), 'palette in the first screen');
      assert((await page.evaluate(() => scrollY)) === 0, 'no scroll');
      await page.screenshot({ path: path.join(artifacts, 'desktop-1280x800.png') });
      await openPanel(page, 'share', 'share-qr');
      await page.screenshot({ path: path.join(artifacts, 'share-1280x800.png') });
    },
  },
  {
    name: 'phone (375 px): panels fit without horizontal scrolling',
    viewport: { width: 375, height: 812 },
    touch: true,
    async run(page, { base, artifacts }) {
      await open(page, base);
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      for (const [button, panel] of [['share', 'share-qr'], ['open-presets', 'presets'], ['open-code', 'code-panel']]) {
        await openPanel(page, button, panel);
        assert((await overflow()) <= 2, `${panel}: ${await overflow()}px too wide`);
        await page.screenshot({ path: path.join(artifacts, `mobile-${panel}.png`) });
        await page.click('[data-testid="dialog-close"]');
        await page.waitForSelector(`[data-testid="${panel}"]`, { state: 'detached' });
      }
      await page.click('[data-testid="exercise-mode"]');
      await page.waitForSelector('[data-testid="exercise-editor"]');
      assert((await overflow()) <= 2, `exercise editor: ${await overflow()}px too wide`);
      await page.screenshot({ path: path.join(artifacts, 'mobile-exercise.png'), fullPage: false });
    },
  },
];
