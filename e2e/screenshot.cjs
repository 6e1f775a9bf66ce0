// Opens a share link in headless Chromium (Debian's, driven by
// playwright-core), waits until the room is connected with its files and
// events on screen, and saves a PNG. Usage: node screenshot.cjs LINK OUT.png
const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');

(async () => {
  const [link, out] = process.argv.slice(2);
  const browser = await chromium.launch(launchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(link);
    await page.waitForSelector('.room-status[data-status="connected"]', { timeout: 20000 });
    await page.waitForSelector('.room-files .path', { timeout: 20000 });
    await page.waitForSelector('.room-events li', { timeout: 20000 });
    const url = page.url();
    if (url.includes('token=')) throw new Error(`the token is still in the address bar: ${url}`);
    await page.screenshot({ path: out });
    const files = await page.locator('.room-files .path').count();
    const events = await page.locator('.room-events li').count();
    console.log(`screenshot: ${out} (${files} files, ${events} events shown)`);
    if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`screenshot failed: ${e.message}`);
  process.exit(1);
});
