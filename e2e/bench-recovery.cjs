// Benchmark (scripts/bench.sh, not CI): after a blackhole ends, how long
// until the page is synced again, as a multiple of the backoff step in
// force. Three runs; the blackhole lasts past the dead-connection window.
const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');
const k = require('./kit.cjs');

(async () => {
  const config = await k.kitJson('/config');
  const browser = await chromium.launch(launchOptions());
  const page = await browser.newPage();
  await page.goto(`${config.proxyHttp}/rooms/${config.roomId}/?token=${config.editToken}`);
  await k.status(page, 'connected');
  const runs = [];
  for (const outage of [22000, 26000, 34000]) {
    await k.kitPost('/proxy/mode/blackhole');
    await k.sleep(outage);
    const shown = await k.reconnecting(page);
    if (!shown) throw new Error(`no reconnecting banner after a ${outage / 1000} s blackhole`);
    const { attempt, stepMs: step } = shown;
    // The page notes the moment it shows "connected" itself, so the figure
    // does not include Playwright's polling (both clocks are this machine's).
    await page.evaluate(() => {
      window.roomConnectedAt = null;
      const seen = new MutationObserver(() => {
        if (document.querySelector('.room-status[data-status="connected"]')) {
          window.roomConnectedAt = performance.timeOrigin + performance.now();
          seen.disconnect();
        }
      });
      seen.observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const restored = Date.now();
    await k.kitPost('/proxy/mode/pass');
    await k.status(page, 'connected', 30000);
    const ms = Math.round((await page.evaluate(() => window.roomConnectedAt)) - restored);
    runs.push({ outageMs: outage, attempt, stepMs: step, recoveryMs: ms, steps: Math.round((ms / step) * 100) / 100 });
  }
  await browser.close();
  for (const r of runs) {
    console.log(`recovery after a ${r.outageMs / 1000} s blackhole: ${r.recoveryMs} ms; step in force ${r.stepMs} ms (attempt ${r.attempt}): ${r.steps} steps`);
  }
  console.log(JSON.stringify({ recovery: runs }));
})().catch((e) => {
  console.error(`recovery benchmark failed: ${e.message}`);
  process.exit(1);
});
