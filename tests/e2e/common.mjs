// What both browser flows share: Debian's chromium, the check that logs or throws, and signing
// in with a token on a server's own sign-in page (each in a fresh context: its own cookies).
import { chromium } from 'playwright-core';

export const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});

export function check(ok, what) {
  if (!ok) throw new Error(`e2e: ${what}`);
  console.log(`ok - ${what}`);
}

// A phone must not scroll the whole page sideways (a wide table scrolls inside its own box).
export async function noHorizontalScroll(page, what) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  check(!wide, `${what}: no horizontal scroll at ${page.viewportSize().width} px`);
}

export async function signIn(base, token, width = 1100) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept()); // the confirmations of state changes
  await page.goto(`${base}/login`);
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('#login')]);
  return page;
}
