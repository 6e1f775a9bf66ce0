const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');
const k = require('./kit.cjs');
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
  await k.sleep(1500);
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await k.status(page, 'connected');
    await k.sleep(300);
    const t = await page.evaluate(() => {
      const o = {};
      const nav = performance.getEntriesByType('navigation')[0];
      o.docEnd = nav.responseEnd; o.domInteractive = nav.domInteractive;
      for (const r of performance.getEntriesByType('resource')) o[r.name.split('/').pop().slice(0,24)] = [Math.round(r.startTime), Math.round(r.responseEnd), r.encodedBodySize, r.decodedBodySize];
      for (const m of performance.getEntriesByType('mark')) o[m.name] = Math.round(m.startTime);
      return o;
    });
    console.log(JSON.stringify(t));
  }
  await browser.close();
})();
