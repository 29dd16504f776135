// Helpers shared by the e2e flows: wait on selectors, never sleep.

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
