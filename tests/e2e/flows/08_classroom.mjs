// The classroom (issue 13): a teacher writes "(None, 10) with fewer than 50,000 parameters,
// starting from (28, 28, 1)" and shares it in under a minute (1440×900); a student solves it
// on a 390×844 phone by taps, with the model, the goals and the success on screen all along.
// Screenshots of both go to tests/e2e/artifacts/. Plus: the insert marker, "add at end",
// the palette's single Tab stop, the searchable layer picker, Teacher opened from a scrolled
// column, the model's own name, and compare B reset with A.
import path from 'node:path';
import { open, texts, waitTexts, waitText, assert, classes } from '../lib.mjs';

/// The link the teacher shared (the student flow opens it).
let exerciseLink = null;

/// Whether the element is wholly inside the viewport (and rendered).
const inView = (page, sel) => page.$eval(sel, (e) => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
});

/// Whether the element is in view and not covered (the topmost element at its centre is it or inside it).
const visibleAt = (page, sel) => page.$eval(sel, (e) => {
  const r = e.getBoundingClientRect();
  if (!(r.width > 0 && r.top >= 0 && r.bottom <= innerHeight)) return false;
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!top && (top === e || e.contains(top));
});

export const flows = [
  {
    name: 'teacher (1440×900): builds "(None, 10), fewer than 50,000 params, from (28, 28, 1)" from an empty model and shares it in under a minute',
    viewport: { width: 1440, height: 900 },
    async run(page, { base, artifacts }) {
      await open(page, base);
      const t0 = Date.now();
      await page.click('[data-testid="exercise-mode"]');
      await page.waitForSelector('[data-testid="exercise-editor"]');
      // The editor is in view, has focus, and its share button is at the top.
      await page.waitForFunction(() => document.activeElement?.dataset.testid === 'exercise-editor');
      assert(await inView(page, '[data-testid="exercise-share"]'), 'the share button is not on screen');
      await page.click('[data-testid="exercise-empty"]');
      await page.waitForSelector('[data-testid="layer-card"]', { state: 'detached' });
      await page.fill('[data-testid="input-shape"]', '(28, 28, 1)');
      await page.press('[data-testid="input-shape"]', 'Enter');
      await waitText(page, 'input-batch-shape', '(None28281)');
      await page.fill('[data-testid="exercise-title"]', 'Ten classes, small');
      await page.fill('[data-testid="exercise-instructions-input"]', 'Classify 28×28 images into 10 classes with fewer than 50,000 parameters.');
      await page.fill('[data-testid="exercise-target"]', '(None, 10)');
      await page.selectOption('[data-testid="exercise-params-kind"]', 'lt');
      await page.fill('[data-testid="exercise-params"]', '50000');
      await page.fill('[data-testid="model-name"]', 'ten_classes');
      await waitTexts(page, 'exercise-goal', [
        '✓Every layer computes (no errors) (met)',
        '○Output shape is (None, 10) (not met yet)',
        '✓Fewer than 50,000 parameters (met)',
      ]);
      await page.click('[data-testid="exercise-share"]');
      await page.waitForSelector('[data-testid="share-dialog"] [data-testid="share-link"]');
      exerciseLink = await page.$eval('[data-testid="share-link"]', (e) => e.value);
      const seconds = (Date.now() - t0) / 1000;
      await page.screenshot({ path: path.join(artifacts, 'classroom-teacher-1440.png') });
      assert(seconds < 60, `the teacher needed ${seconds} s`);
      assert(exerciseLink.includes('#'), `no link: ${exerciseLink}`);
      await page.keyboard.press('Escape');
      // The summary names the model by its own name.
      await page.waitForFunction(() => document.querySelector('[data-testid="model-name"]').value === 'ten_classes');
    },
  },
  {
    name: 'student (390×844 phone, touch): solves it by taps; model, goals and success stay on screen',
    viewport: { width: 390, height: 844 },
    touch: true,
    async run(page, { artifacts }) {
      assert(exerciseLink, 'the teacher flow did not share a link');
      await page.goto(exerciseLink);
      await page.waitForSelector('[data-testid="exercise-panel"]');
      await waitText(page, 'exercise-panel', 'Tenclassessmall');
      // First screen: the input, the sticky line with the total, the output and the goals, and "Add layer".
      assert((await page.evaluate(() => scrollY)) === 0, 'the page opened scrolled');
      for (const sel of ['[data-testid="input-card"]', '[data-testid="total-params"]', '[data-testid="sticky-goals"]', '[data-testid="add-layer"]']) {
        assert(await visibleAt(page, sel), `${sel} is not on the first screen`);
      }
      await waitText(page, 'sticky-goals', '2of3met');
      assert((await page.$eval('[data-testid="palette"]', (e) => e.getBoundingClientRect().height)) === 0, 'the palette is open before "Add layer"');
      await page.screenshot({ path: path.join(artifacts, 'classroom-student-1-start.png') });

      const add = async (cls) => {
        await page.tap('[data-testid="add-layer"]');
        await page.waitForSelector(`[data-testid="palette-item"][data-class="${cls}"]`, { state: 'visible' });
        await page.tap(`[data-testid="palette-item"][data-class="${cls}"]`);
        // The sheet closes; the new card (selected) and the total are in view.
        await page.waitForFunction(() => document.querySelector('[data-testid="palette"]').getBoundingClientRect().height === 0);
        await page.waitForFunction((c) => document.querySelector('[data-testid="layer-card"][aria-current="true"] [data-testid="layer-class"]')?.textContent.trim() === c, cls);
        await page.waitForFunction(() => {
          const r = document.querySelector('[data-testid="layer-card"][aria-current="true"]').getBoundingClientRect();
          const bar = document.querySelector('.totals').getBoundingClientRect();
          return r.top >= 0 && r.top < bar.top;
        });
        assert(await visibleAt(page, '[data-testid="total-params"]'), 'the total is not in view after adding');
      };
      await add('Flatten');
      await waitTexts(page, 'output-shape', ['(None, 784)']);
      // Escape closes a sheet too (a phone with a keyboard, a narrow window), and nothing is added.
      await page.tap('[data-testid="add-layer"]');
      await page.waitForSelector('[data-testid="palette-item"][data-class="Dense"]', { state: 'visible' });
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => document.querySelector('[data-testid="palette"]').getBoundingClientRect().height === 0);
      assert(JSON.stringify(await classes(page)) === '["Flatten"]', `Escape changed the stack: ${await classes(page)}`);
      await add('Dense');
      assert(JSON.stringify(await classes(page)) === '["Flatten","Dense"]', `stack: ${await classes(page)}`);
      // The new Dense's settings open as a sheet from its card.
      await page.tap('[data-testid="layer-card"][aria-current="true"] .edit-jump');
      await page.waitForSelector('.sheet-settings [data-testid="settings-sheet"] [data-testid="inspector"]', { state: 'visible' });
      const units = '[data-testid="settings-sheet"] [data-testid="field-units"]';
      await page.waitForSelector(units, { state: 'visible' });
      assert(await inView(page, units), 'the units field is not in view in the sheet');
      await page.screenshot({ path: path.join(artifacts, 'classroom-student-2-settings.png') });
      await page.tap(units);
      await page.fill(units, '10');
      await page.tap('[data-testid="settings-close"]');
      await page.waitForSelector('.sheet-settings', { state: 'detached' });
      await waitTexts(page, 'output-shape', ['(None, 784)', '(None, 10)']);
      await waitText(page, 'total-params', '7850');
      // Success where the student is: the sticky line says so (role="status").
      await waitText(page, 'sticky-goals', 'Allmet');
      assert(await visibleAt(page, '[data-testid="sticky-goals"]'), 'the success is not on screen');
      assert((await page.getAttribute('[data-testid="sticky-goals"]', 'role')) === 'status', 'the sticky goals are not a status');
      await page.waitForSelector('[data-testid="exercise-success"]');
      await page.screenshot({ path: path.join(artifacts, 'classroom-student-3-solved.png') });
    },
  },
  {
    name: 'phone (390×844): a built-in exercise opens with its goals and the first card\'s shape above the sticky line',
    viewport: { width: 390, height: 844 },
    touch: true,
    async run(page, { base, artifacts }) {
      await open(page, base);
      await page.tap('[data-testid="open-presets"]');
      const href = await page.getAttribute('[data-testid="exercise-0"]', 'href');
      await page.goto(base + href);
      await page.reload();
      await page.waitForSelector('[data-testid="exercise-panel"]');
      await page.evaluate(() => window.scrollTo(0, 0));
      const pos = await page.evaluate(() => ({
        goals: document.querySelector('[data-testid="exercise-checklist"]').getBoundingClientRect().bottom,
        shape: document.querySelector('[data-testid="layer-card"] [data-testid="output-shape"]').getBoundingClientRect().bottom,
        bar: document.querySelector('.totals').getBoundingClientRect().top,
      }));
      await page.screenshot({ path: path.join(artifacts, 'classroom-phone-exercise-first-screen.png') });
      assert(pos.goals < pos.bar && pos.shape <= pos.bar, `goals end at ${pos.goals}, the first shape at ${pos.shape}, the sticky line starts at ${pos.bar}`);
      assert(await visibleAt(page, '[data-testid="sticky-goals"]'), 'no goals in the sticky line');
    },
  },
  {
    name: 'insert marker: new layers go after the selected card, or at the end when asked',
    async run(page, { base }) {
      await open(page, base);
      await waitTexts(page, 'insert-marker', ['New layers go at the end']);
      await page.click('[data-testid="layer-card"]:nth-of-type(1) [data-testid="layer-class"]');
      await page.locator('[data-testid="layer-card"]').nth(1).click();
      await waitTexts(page, 'insert-marker', ['New layers go after 2 · activationadd at end']);
      // The marker sits between cards 2 and 3.
      const order = await page.$$eval('#stack > li', (els) => els.map((e) => e.dataset.testid));
      assert(JSON.stringify(order) === JSON.stringify(['layer-card', 'layer-card', 'insert-marker', 'layer-card', 'layer-card']), `order ${order}`);
      await page.click('[data-testid="palette-item"][data-class="Dropout"]');
      assert(JSON.stringify(await classes(page)) === '["Dense","Activation","Dropout","Flatten","Dense"]', `stack: ${await classes(page)}`);
      await waitTexts(page, 'insert-marker', ['New layers go after 3 · dropoutadd at end']);
      await page.click('[data-testid="add-at-end"]');
      await waitTexts(page, 'insert-marker', ['New layers go at the end']);
      await page.click('[data-testid="palette-item"][data-class="LayerNormalization"]');
      assert(JSON.stringify(await classes(page)) === '["Dense","Activation","Dropout","Flatten","Dense","LayerNormalization"]', `stack: ${await classes(page)}`);
    },
  },
  {
    name: 'keyboard: the palette list is one Tab stop; arrows move inside it, Enter adds',
    async run(page, { base }) {
      await open(page, base);
      await page.focus('[data-testid="palette-search"]');
      await page.keyboard.press('Tab');
      const inList = () => page.evaluate(() => !!document.activeElement?.closest('.palette-list'));
      assert(await inList(), 'Tab from the search does not enter the list');
      const first = await page.evaluate(() => document.activeElement.textContent.trim());
      await page.keyboard.press('ArrowDown');
      const second = await page.evaluate(() => document.activeElement.dataset.class);
      assert(second, `ArrowDown from "${first}" did not reach a layer`);
      await page.keyboard.press('ArrowDown');
      const third = await page.evaluate(() => document.activeElement.dataset.class);
      assert(third && third !== second, `ArrowDown again: ${third}`);
      await page.keyboard.press('ArrowUp');
      assert((await page.evaluate(() => document.activeElement.dataset.class)) === second, 'ArrowUp did not go back');
      await page.keyboard.press('Enter');
      await page.waitForFunction((c) => [...document.querySelectorAll('[data-testid="layer-class"]')].pop()?.textContent.trim() === c, second);
      // Shift+Tab back into the list lands on the last focused layer; Tab leaves the palette.
      await page.focus('[data-testid="palette-search"]');
      await page.keyboard.press('Tab');
      assert((await page.evaluate(() => document.activeElement.dataset.class)) === second, 'the list does not remember its place');
      await page.keyboard.press('Tab');
      assert(!(await page.evaluate(() => !!document.activeElement?.closest('.palette'))), 'a second Tab stop inside the palette');
    },
  },
  {
    name: 'visuals: beyond 8 layers the explained layer is picked from a searchable list',
    async run(page, { base }) {
      await open(page, base);
      assert((await page.$$('.vz-chip')).length === 4, 'the seed has chips');
      for (let i = 0; i < 5; i++) await page.click('[data-testid="palette-item"][data-class="Dropout"]');
      await page.waitForSelector('[data-testid="explain-select"]');
      assert((await page.$$('.vz-chip')).length === 0, 'chips left beside the list');
      const options = await page.$$eval('[data-testid="explain-select"] option', (o) => o.length);
      assert(options === 9, `${options} options for 9 layers`);
      await page.fill('[data-testid="explain-search"]', 'flat');
      await page.waitForFunction(() => /Flatten/.test(document.querySelector('[data-testid="why-panel"] h2')?.textContent + document.querySelector('[data-testid="why-panel"]')?.textContent));
      const picked = await page.$eval('[data-testid="explain-select"]', (s) => s.options[s.selectedIndex].textContent);
      assert(/flatten/.test(picked), `search "flat" explains ${picked}`);
      // Cleared, the search lists every layer again; picking the first explains (and selects) it.
      await page.fill('[data-testid="explain-search"]', '');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="explain-select"] option').length === 9);
      await page.selectOption('[data-testid="explain-select"]', { index: 0 });
      await page.waitForFunction(() => document.querySelector('[data-testid="layer-card"]').getAttribute('aria-current') === 'true');
    },
  },
  {
    name: 'Teacher opened while the side column is scrolled comes into view with focus; compare B follows A after Reset',
    viewport: { width: 1440, height: 900 },
    async run(page, { base }) {
      await open(page, base);
      await page.click('[data-testid="compare-preset-seed004"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="compare-total-a"]').textContent !== document.querySelector('[data-testid="compare-total-b"]').textContent);
      await page.click('[data-testid="reset"]');
      await waitText(page, 'total-params', '244');
      await page.waitForFunction(() => document.querySelector('[data-testid="compare-total-b"]').textContent === document.querySelector('[data-testid="compare-total-a"]').textContent);
      await page.$eval('.side', (s) => { s.scrollTop = s.scrollHeight; });
      await page.waitForFunction(() => document.querySelector('.side').scrollTop > 500);
      await page.click('[data-testid="exercise-mode"]');
      await page.waitForFunction(() => document.activeElement?.dataset.testid === 'exercise-editor');
      await page.waitForFunction(() => {
        const r = document.querySelector('[data-testid="exercise-editor"]').getBoundingClientRect();
        return r.top >= 0 && r.top < innerHeight - 100;
      });
      assert((await texts(page, 'exercise-editor')).length === 1, 'no editor');
    },
  },
  {
    name: 'an exercise opened from Examples while the side column is scrolled comes into view with focus',
    viewport: { width: 1440, height: 900 },
    async run(page, { base }) {
      await open(page, base);
      await page.$eval('.side', (s) => { s.scrollTop = s.scrollHeight; });
      await page.waitForFunction(() => document.querySelector('.side').scrollTop > 500);
      await page.click('[data-testid="open-presets"]');
      await page.click('[data-testid="exercise-0"]');
      await page.waitForSelector('[data-testid="exercise-panel"]');
      await page.waitForFunction(() => document.activeElement?.dataset.testid === 'exercise-panel');
      await page.waitForFunction(() => {
        const r = document.querySelector('[data-testid="exercise-panel"]').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight;
      });
    },
  },
];
