// Benchmark (scripts/bench.sh, not CI): first load and cached first paint
// of a room with 50 files (about 200 KB) and 1000 events, on loopback and
// on a Wi-Fi-like link: 50 ms round trip, 20 Mbit/s each way. Chromium's
// network emulation (CDP) delays and throttles the page's requests and the
// WebSocket's opening and bandwidth, but not its frames: room-testkit's
// proxy delays the hub's socket bytes by the round trip (pipelined, so the
// link keeps its rate).
//
// - cold: a browser profile that never saw the page (no HTTP cache, no
//   offline shell, no IndexedDB), 5 visits;
// - warm: 10 reloads of a page that has everything cached.
// For each: bytes the hub sent for the page and its assets (counted by
// room-testkit's proxy, headers included), and from page start: cached
// room painted, the hub's first frame, synced; and whether the cached room
// was on screen before the hub's first frame arrived (so before any of its
// data was applied). App assets: the wasm, its JS and the CSS, whose gzip -9 size
// the cold bytes are compared with.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');
const k = require('./kit.cjs');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, places = 0) => Math.round(x * 10 ** places) / 10 ** places;
const WIFI = { offline: false, latency: 50, downloadThroughput: 20e6 / 8, uploadThroughput: 20e6 / 8 };
const COLD_VISITS = 5;
const WARM_RELOADS = 10;

const DIST = path.resolve(__dirname, '..', 'dist');
const appAssetsGzipBytes = fs.readdirSync(DIST)
  .filter((f) => /\.(wasm|css)$/.test(f) || (f.endsWith('.js') && f !== 'sw.js'))
  .reduce((sum, f) => sum + zlib.gzipSync(fs.readFileSync(path.join(DIST, f)), { level: 9 }).length, 0);

const stats = async () => (await k.kitJson('/stats')).proxy;

async function marks(page) {
  return page.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0]?.startTime ?? null;
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('_bg.wasm'));
    return {
      wasmFetched: wasm?.responseEnd ?? null,
      sessionStart: at('room:session-start'),
      cacheOpened: at('room:cache-opened'),
      cacheRead: at('room:cache-read'),
      cacheLoaded: at('room:cache-loaded'),
      painted: at('room:cache-painted'),
      socketOpen: at('room:socket-open'),
      firstFrame: at('room:first-frame'),
      synced: at('room:synced'),
      origin: performance.timeOrigin,
    };
  });
}

// One page load: `load` navigates; bytes counted until the room is synced
// and the offline shell is installed (its own fetches belong to a first
// load too).
async function measured(page, load) {
  const before = (await stats()).httpBytesToBrowser;
  await load();
  await k.status(page, 'connected', 60000);
  await page.evaluate(() => navigator.serviceWorker?.ready);
  const m = await marks(page);
  const after = await stats();
  return { ...m, bytes: after.httpBytesToBrowser - before, beforeHub: m.painted < m.firstFrame };
}

async function withLink(context, page, link) {
  if (!link) return;
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', link);
}

function summary(runs, { warm }) {
  const pick = (key) => round(median(runs.map((r) => r[key])));
  const out = { visits: runs.length, bytesMedian: pick('bytes'), firstFrameMsMedian: pick('firstFrame'), syncedMsMedian: pick('synced') };
  if (warm) {
    out.paintedMsMedian = pick('painted');
    out.paintedOverSynced = round(out.paintedMsMedian / out.syncedMsMedian, 2);
    out.paintedBeforeHubData = runs.filter((r) => r.beforeHub).length;
  }
  const steps = ['wasmFetched', 'sessionStart', 'cacheOpened', 'cacheRead', 'cacheLoaded', 'painted', 'socketOpen', 'firstFrame', 'synced'];
  out.timelineMsMedian = Object.fromEntries(steps.filter((s) => runs.every((r) => r[s] !== null)).map((s) => [s, pick(s)]));
  return out;
}

async function measureLink(browser, url, link) {
  const cold = [];
  for (let i = 0; i < COLD_VISITS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await withLink(context, page, link);
    cold.push(await measured(page, () => page.goto(url)));
    await context.close();
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await withLink(context, page, link);
  await page.goto(url);
  await k.status(page, 'connected', 60000);
  await k.until(async () => (await k.eventRevs(page)).length >= 100, 'events on screen');
  const files = await page.$$eval('.room-files .path', (xs) => xs.length);
  await k.sleep(1500); // let the persister write everything
  const warm = [];
  for (let i = 0; i < WARM_RELOADS; i++) warm.push(await measured(page, () => page.reload()));
  await context.close();
  return { files, cold: summary(cold, { warm: false }), warm: summary(warm, { warm: true }) };
}

function print(name, r) {
  const { cold, warm } = r;
  console.log(`${name}: ${r.files} files, 1000 events`);
  console.log(`  cold (${cold.visits} first visits): ${cold.bytesMedian} bytes (${round(cold.bytesMedian / appAssetsGzipBytes, 2)}x the assets' gzip -9 ${appAssetsGzipBytes}), first frame ${cold.firstFrameMsMedian} ms, synced ${cold.syncedMsMedian} ms`);
  console.log(`  warm (${warm.visits} reloads): ${warm.bytesMedian} bytes, painted ${warm.paintedMsMedian} ms, first frame ${warm.firstFrameMsMedian} ms, synced ${warm.syncedMsMedian} ms (painted/synced ${warm.paintedOverSynced}); on screen before the hub's first frame ${warm.paintedBeforeHubData} of ${warm.visits}`);
  console.log(`  warm timeline (median ms from page start): ${Object.entries(warm.timelineMsMedian).map(([s, v]) => `${s} ${v}`).join(', ')}`);
}

(async () => {
  const config = await k.kitJson('/config');
  await k.kitPost('/events/1000?kind=bench');
  const url = `${config.proxyHttp}/rooms/${config.roomId}/?token=${config.editToken}`;
  const browser = await chromium.launch(launchOptions());
  const loopback = await measureLink(browser, url, null);
  await k.kitPost(`/proxy/socket-delay/${WIFI.latency}`);
  const wifi = await measureLink(browser, url, WIFI);
  await k.kitPost('/proxy/socket-delay/0');
  await browser.close();
  print('loopback', loopback);
  print('50 ms RTT, 20 Mbit/s', wifi);
  const report = {
    firstPaint: {
      files: loopback.files,
      events: 1000,
      appAssetsGzipBytes,
      reloads: loopback.warm.visits,
      // The loopback warm figures under their earlier names.
      paintedMsMedian: loopback.warm.paintedMsMedian,
      syncedMsMedian: loopback.warm.syncedMsMedian,
      paintedOverSynced: loopback.warm.paintedOverSynced,
      paintedBeforeHubData: loopback.warm.paintedBeforeHubData,
      timelineMsMedian: loopback.warm.timelineMsMedian,
      loopback: { cold: loopback.cold, warm: loopback.warm },
      wifi50ms: { link: { ...WIFI, socketFramesDelayMs: WIFI.latency }, cold: wifi.cold, warm: wifi.warm },
    },
  };
  console.log(JSON.stringify(report));
})().catch((e) => {
  console.error(`first-paint benchmark failed: ${e.message}`);
  process.exit(1);
});
