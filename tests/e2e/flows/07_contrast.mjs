// WCAG AA contrast (issue 13): every piece of visible text on the landing page, in the light
// and the dark theme, against the background it sits on: at least 4.5:1, or 3:1 for large
// text (24 px, or 18.66 px bold). Colours are read as the browser computed them.
import path from 'node:path';
import { open, assert } from '../lib.mjs';

/// Runs in the page: the text elements whose contrast is too low, with what was measured.
function lowContrast() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  // The background under `el`: its own and its ancestors' colours, composed bottom up.
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    if (!layers.length || layers[layers.length - 1].a < 1) bg = parse(getComputedStyle(document.documentElement).backgroundColor) ?? bg;
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const bad = [];
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || s.visibility !== 'visible' || Number(s.opacity) === 0) continue;
    if (el.closest('[aria-hidden="true"], .visually-hidden, svg, button:disabled, [disabled]')) continue;
    const fg = parse(s.color);
    if (!fg) continue;
    const bg = background(el);
    const l1 = lum(over(fg, bg)), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    checked++;
    if (ratio < need) bad.push(`${ratio.toFixed(2)}:1 < ${need} "${n.textContent.trim().slice(0, 40)}" (${el.tagName.toLowerCase()}.${[...el.classList].join('.')}, ${s.color} on rgb(${bg.r | 0}, ${bg.g | 0}, ${bg.b | 0}))`);
  }
  return { bad, checked };
}

export const flows = ["light", "dark"].map((scheme) => ({
  name: `WCAG AA contrast of every visible text on the landing page (${scheme} theme)`,
  colorScheme: scheme,
  async run(page, { base, artifacts }) {
    await page.emulateMedia({ colorScheme: scheme });
    await open(page, base);
    await page.waitForSelector('[data-testid="dense-diagram"] svg');
    await page.waitForSelector('[data-testid="tensor-view"]');
    const { bad, checked } = await page.evaluate(lowContrast);
    await page.screenshot({ path: path.join(artifacts, `contrast-${scheme}.png`), fullPage: true });
    assert(checked > 100, `only ${checked} texts checked`);
    assert(bad.length === 0, `${bad.length} of ${checked} texts below AA:\n${bad.join('\n')}`);
  },
}));

/// Runs in the page: the controls smaller than `min` px either way (hidden ones aside).
function smallTargets(min) {
  const bad = [];
  let checked = 0;
  for (const el of document.querySelectorAll('button, a[href], input, select, textarea, [role="button"], [tabindex="0"]')) {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (!r.width || !r.height || s.visibility !== 'visible' || el.closest('[aria-hidden="true"], .skip-links')) continue;
    checked++;
    // A checkbox counts with its label (the label is the target).
    const label = el.closest('label');
    const box = label ? label.getBoundingClientRect() : r;
    if (box.width < min || box.height < min) bad.push(`${Math.round(box.width)}×${Math.round(box.height)} ${el.tagName.toLowerCase()} ${el.dataset.testid ?? el.getAttribute('aria-label') ?? el.textContent.trim().slice(0, 30)}`);
  }
  return { bad, checked };
}

flows.push({
  name: 'phone (390×844, touch): every control on the first screens is at least 44 px either way',
  viewport: { width: 390, height: 844 },
  touch: true,
  async run(page, { base }) {
    await open(page, base);
    await page.waitForSelector('[data-testid="dense-diagram"] svg');
    const { bad, checked } = await page.evaluate(smallTargets, 44);
    assert(checked > 30, `only ${checked} controls checked`);
    assert(bad.length === 0, `${bad.length} of ${checked} touch targets under 44 px:\n${bad.join('\n')}`);
  },
});

flows.push({
  name: 'phone (390×844): the first screen shows a layer card with its shape and the total; the total stays in view while the stack scrolls',
  viewport: { width: 390, height: 844 },
  touch: true,
  async run(page, { base, artifacts }) {
    await open(page, base);
    const inView = (sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.width > 0; });
    assert((await page.evaluate(() => scrollY)) === 0, 'the page opened scrolled');
    assert(await inView('[data-testid="layer-card"] [data-testid="output-shape"]'), 'the first card\'s shape is not on the first screen');
    assert(await inView('[data-testid="total-params"]'), 'the total is not on the first screen');
    await page.screenshot({ path: path.join(artifacts, 'phone-first-screen.png') });
    // Scroll to the last card: the total is still in view, not covering it.
    await page.locator('[data-testid="layer-card"]').last().scrollIntoViewIfNeeded();
    assert(await inView('[data-testid="total-params"]'), 'the total scrolled away');
  },
});
