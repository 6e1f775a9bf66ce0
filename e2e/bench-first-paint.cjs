// Benchmark (scripts/bench.sh, not CI): cached first paint. A room with 50
// files (about 200 KB) and 1000 events; 10 hard reloads (HTTP cache
// disabled); for each, page start → `room:cache-painted` and page start →
// `room:synced`, and whether the paint came before the hub's first
// WebSocket byte (room-testkit's proxy records when it passed that on).
const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');
const k = require('./kit.cjs');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const config = await k.kitJson('/config');
  await k.kitPost('/events/1000?kind=bench');
  const browser = await chromium.launch(launchOptions());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(`${config.proxyHttp}/rooms/${config.roomId}/?token=${config.editToken}`);
  await k.status(page, 'connected');
  await k.until(async () => (await k.eventRevs(page)).length >= 100, 'events on screen');
  const files = await page.$$eval('.room-files .path', (xs) => xs.length);
  await k.sleep(1500); // let the persister write everything
  const runs = [];
  for (let i = 0; i < 10; i++) {
    await page.reload();
    await k.status(page, 'connected');
    const marks = await page.evaluate(() => {
      const start = (n) => performance.getEntriesByName(n)[0].startTime;
      const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('_bg.wasm'));
      return {
        wasmFetched: wasm.responseEnd,
        sessionStart: start('room:session-start'),
        cacheLoaded: start('room:cache-loaded'),
        painted: start('room:cache-painted'),
        socketOpen: start('room:socket-open'),
        firstFrame: start('room:first-frame'),
        synced: start('room:synced'),
        origin: performance.timeOrigin,
      };
    });
    const firstByte = (await k.kitJson('/stats')).proxy.socketFirstByteMs;
    runs.push({ ...marks, beforeHub: marks.origin + marks.painted < firstByte });
  }
  await browser.close();
  const painted = median(runs.map((r) => r.painted));
  const synced = median(runs.map((r) => r.synced));
  const report = {
    firstPaint: {
      files,
      events: 1000,
      reloads: runs.length,
      paintedMsMedian: Math.round(painted),
      syncedMsMedian: Math.round(synced),
      paintedOverSynced: Math.round((painted / synced) * 100) / 100,
      paintedBeforeHubByte: runs.filter((r) => r.beforeHub).length,
    },
  };
  console.log(`cached first paint: ${files} files, 1000 events, ${runs.length} hard reloads, hub on loopback`);
  console.log(`  page start -> cache painted: median ${painted.toFixed(0)} ms`);
  console.log(`  page start -> synced:        median ${synced.toFixed(0)} ms (painted/synced = ${report.firstPaint.paintedOverSynced})`);
  console.log(`  painted before the hub's first byte: ${report.firstPaint.paintedBeforeHubByte} of ${runs.length}`);
  // Where the time goes: the median of each mark, page start = 0.
  const steps = ['wasmFetched', 'sessionStart', 'cacheLoaded', 'painted', 'socketOpen', 'firstFrame', 'synced'];
  report.firstPaint.timelineMsMedian = Object.fromEntries(steps.map((s) => [s, Math.round(median(runs.map((r) => r[s])))]));
  console.log(`  timeline (median ms from page start): ${steps.map((s) => `${s} ${report.firstPaint.timelineMsMedian[s]}`).join(', ')}`);
  console.log(JSON.stringify(report));
})().catch((e) => {
  console.error(`first-paint benchmark failed: ${e.message}`);
  process.exit(1);
});
