// Helpers shared by the e2e flows: wait on selectors, never sleep.
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
