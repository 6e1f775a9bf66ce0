// How every e2e script launches a browser. E2E_ENGINE picks the engine:
// chromium (the default: Debian's Chromium driven by playwright-core, never a
// downloaded browser), firefox (Debian's Firefox ESR through geckodriver) or
// webkit (WebKitGTK's MiniBrowser through WebKitWebDriver, under Xvfb). The
// last two are driven over WebDriver by selenium-webdriver, behind the part
// of Playwright's API the scenarios use (e2e/webdriver.cjs), so one set of
// scenario steps runs in all three.
const ENGINE = process.env.E2E_ENGINE || 'chromium';
const ENGINES = ['chromium', 'firefox', 'webkit'];
if (!ENGINES.includes(ENGINE)) throw new Error(`E2E_ENGINE=${ENGINE}: engines are ${ENGINES.join(', ')}`);

// Chromium's flags for this closed network.
const launchOptions = () => ({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
  // Playwright turns the back-forward cache off; people's browsers have it
  // on, and the Back/Forward scenario needs it.
  ignoreDefaultArgs: ['--disable-back-forward-cache'],
});

// A browser of the chosen engine: `newContext()` gives a fresh profile,
// whose `newPage()` gives a page with Playwright's methods.
async function launch() {
  if (ENGINE === 'chromium') {
    const { chromium } = require('playwright-core');
    return chromium.launch(launchOptions());
  }
  return require('./webdriver.cjs').launch(ENGINE);
}

// For a scenario that needs what only one engine's driver gives (Chromium's
// DevTools protocol, a second browser with other flags): the `skip` option
// of node:test, with the reason, in the other engines.
const onlyIn = (engine, why) => (ENGINE === engine ? false : `${engine} only: ${why}`);

module.exports = { ENGINE, launch, launchOptions, onlyIn };
