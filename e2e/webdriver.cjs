// Firefox and WebKit for the scenarios: a WebDriver session per context
// (selenium-webdriver, from npm; geckodriver for Firefox ESR, WebKitGTK's
// WebKitWebDriver for MiniBrowser), behind the part of Playwright's Browser,
// BrowserContext, Page and ElementHandle API the scenarios use, with the
// same meaning. What WebDriver cannot do (init scripts, network emulation,
// the DevTools protocol) throws, naming the method; a scenario that needs it
// is skipped in these engines (`onlyIn` in e2e/browser.cjs).
//
// A context's pages are the windows of its session. WebDriver talks to one
// window at a time, so every command of a session goes through one queue
// that first switches to the command's window.
const { Builder, Key, error: webdriverErrors } = require('selenium-webdriver');
const firefox = require('selenium-webdriver/firefox');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 30000;
// The longest one WebDriver command may take (a page load, a script that
// waits): past it the command fails, naming what hung, instead of the
// scenario waiting forever on a driver that stopped answering.
const COMMAND_LIMIT_MS = 90000;

function within(ms, promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// A function's source evaluated in the page with one argument; its value
// (awaited) or its error comes back as one JSON-able object.
const SETTLE = `.then((value) => done({ value: value === undefined ? null : value }),
  (e) => done({ error: e instanceof Error ? e.name + ': ' + e.message + ' ' + e.stack : String(e) }));`;
const EVALUATE = `const [source, arg, done] = arguments;
Promise.resolve().then(() => (0, eval)('(' + source + ')')(arg))${SETTLE}`;
// The same, with an element as the first argument.
const EVALUATE_ON = `const [element, source, arg, done] = arguments;
Promise.resolve().then(() => (0, eval)('(' + source + ')')(element, arg))${SETTLE}`;

// Runs in the page: the elements `selector` matches, in document order.
// Besides CSS, Playwright's `:text-is("…")` (whole text, spaces folded) and
// `:has-text("…")` (contains it) at the selector's end.
function findAll(selector) {
  const found = /^(.*):(text-is|has-text)\("((?:[^"\\]|\\.)*)"\)$/.exec(selector);
  if (!found) return Array.from(document.querySelectorAll(selector));
  const [, base, kind, quoted] = found;
  const want = JSON.parse(`"${quoted}"`);
  return Array.from(document.querySelectorAll(base || '*')).filter((el) => {
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim();
    return kind === 'text-is' ? text === want : text.includes(want);
  });
}
const FIND_ALL = findAll.toString();

const sourceOf = (fn) => (typeof fn === 'function' ? fn.toString() : `() => (${fn})`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function unsupported(engine, what) {
  return new Error(`${what} is not available over WebDriver (${engine}); skip the scenario with onlyIn()`);
}

// Playwright's key names, as WebDriver's.
const KEYS = {
  Control: Key.CONTROL, Shift: Key.SHIFT, Alt: Key.ALT, Meta: Key.META,
  Enter: Key.ENTER, Tab: Key.TAB, Escape: Key.ESCAPE, Backspace: Key.BACK_SPACE,
  Delete: Key.DELETE, Space: Key.SPACE, Home: Key.HOME, End: Key.END,
  ArrowUp: Key.ARROW_UP, ArrowDown: Key.ARROW_DOWN, ArrowLeft: Key.ARROW_LEFT, ArrowRight: Key.ARROW_RIGHT,
  PageUp: Key.PAGE_UP, PageDown: Key.PAGE_DOWN,
};
const MODIFIERS = new Set(['Control', 'Shift', 'Alt', 'Meta']);

function keyOf(name) {
  if (KEYS[name]) return KEYS[name];
  if ([...name].length === 1) return name;
  throw new Error(`keyboard: no WebDriver key for '${name}'`);
}

// A port nothing listens on now.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForDriver(url, child) {
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the WebDriver server exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/status`);
      if (response.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`the WebDriver server at ${url} did not answer`);
    await sleep(100);
  }
}

const which = (command) => execFileSync('sh', ['-c', `command -v ${command}`]).toString().trim();

// A new WebDriver session of `engine`, with its own fresh profile.
async function newSession(engine) {
  if (engine === 'firefox') {
    const options = new firefox.Options()
      .setBinary(process.env.FIREFOX || '/usr/bin/firefox-esr')
      .addArguments('-headless')
      // Firefox shows JSON in its viewer, a document without the origin's
      // principal: a scenario that opens the hub's health JSON as "a page
      // of the origin" to look into the origin's IndexedDB saw an empty,
      // separate one there. As text, the page is the origin's.
      .setPreference('devtools.jsonview.enabled', false);
    const service = new firefox.ServiceBuilder(process.env.GECKODRIVER || which('geckodriver'));
    const driver = await new Builder().forBrowser('firefox').setFirefoxOptions(options)
      .setFirefoxService(service).build();
    return { driver, stop: async () => {} };
  }
  // WebKit: WebKitWebDriver serves one session; each context has its own.
  const port = await freePort();
  const child = spawn(process.env.SAFARIDRIVER || '/usr/bin/WebKitWebDriver', [`--port=${port}`],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  // A driver left behind by a failed scenario never keeps the run alive,
  // and goes with it.
  child.unref();
  const killOnExit = () => child.kill();
  process.on('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForDriver(url, child);
    const driver = await new Builder().usingServer(url).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': {
        binary: process.env.WEBKIT_BROWSER,
        args: ['--automation'],
      },
    }).build();
    return {
      driver,
      stop: async () => {
        process.off('exit', killOnExit);
        child.kill();
      },
    };
  } catch (e) {
    child.kill();
    throw e;
  }
}

class Session {
  constructor(engine, driver) {
    this.engine = engine;
    this.driver = driver;
    this.tail = Promise.resolve();
    this.window = null;
  }

  // Runs `step(driver)` after every step queued before it, in `handle`'s
  // window.
  run(handle, step) {
    const result = this.tail.then(() => within(COMMAND_LIMIT_MS, (async () => {
      if (handle && this.window !== handle) {
        await this.driver.switchTo().window(handle);
        this.window = handle;
      }
      return step(this.driver);
    })(), `the ${this.engine} driver`));
    this.tail = result.catch(() => {});
    return result;
  }
}

class ElementHandle {
  constructor(page, element) {
    this.page = page;
    this.element = element;
  }

  async evaluate(fn, arg) {
    const result = await this.page.run((d) => d.executeAsyncScript(EVALUATE_ON, this.element, sourceOf(fn), arg ?? null))
      .catch((e) => {
        if (e instanceof webdriverErrors.StaleElementReferenceError) {
          throw new Error('elementHandle.evaluate: the element is no longer in the page');
        }
        throw e;
      });
    if (result.error) throw new Error(`elementHandle.evaluate: ${result.error}`);
    return result.value;
  }

  textContent() { return this.evaluate((el) => el.textContent); }

  getAttribute(name) { return this.evaluate((el, n) => el.getAttribute(n), name); }

  click() { return this.page.run(() => this.element.click()); }
}

class Page {
  constructor(context, handle) {
    this.context = context;
    this.handle = handle;
    this.keyboard = {
      press: (combo) => this.press(combo),
      type: (text) => this.run((d) => d.actions({ async: true }).sendKeys(text).perform()),
    };
  }

  run(step) { return this.context.session.run(this.handle, step); }

  goto(url) { return this.run((d) => d.get(url)); }

  // A reload as a person's: the page reloads itself (WebDriver's Refresh
  // bypasses the service worker in Firefox, as a hard reload does), and
  // this waits for the new document to have loaded.
  async reload({ timeout = 60000 } = {}) {
    await this.evaluate(() => {
      window.__e2eOldDocument = true;
      setTimeout(() => location.reload(), 0);
    });
    const deadline = Date.now() + timeout;
    for (;;) {
      await sleep(POLL_MS);
      const loaded = await this.evaluate(() => !window.__e2eOldDocument && document.readyState === 'complete')
        .catch(() => false);
      if (loaded) return;
      if (Date.now() > deadline) throw new Error(`page.reload: no new page within ${timeout} ms`);
    }
  }

  goBack() { return this.run((d) => d.navigate().back()); }

  goForward() { return this.run((d) => d.navigate().forward()); }

  // Playwright's `page.url()` is synchronous; WebDriver has to ask.
  url() { throw unsupported(this.context.engine, 'page.url() (ask with page.evaluate(() => location.href))'); }

  async evaluate(fn, arg) {
    const result = await this.run((d) => d.executeAsyncScript(EVALUATE, sourceOf(fn), arg ?? null));
    if (result.error) throw new Error(`page.evaluate: ${result.error}`);
    return result.value;
  }

  // As Playwright: waits for `state` (visible by default) and gives the
  // element (or null for hidden and detached).
  async waitForSelector(selector, { timeout = DEFAULT_TIMEOUT_MS, state = 'visible' } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const met = await this.evaluate(([sel, want, find]) => {
        const el = (0, eval)(`(${find})`)(sel)[0];
        const visible = !!el && getComputedStyle(el).visibility !== 'hidden'
          && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
        if (want === 'attached') return !!el;
        if (want === 'detached') return !el;
        if (want === 'hidden') return !visible;
        return visible;
      }, [selector, state, FIND_ALL]);
      if (met) return state === 'attached' || state === 'visible' ? this.$(selector) : null;
      if (Date.now() > deadline) throw new Error(`page.waitForSelector: '${selector}' not ${state} within ${timeout} ms`);
      await sleep(POLL_MS);
    }
  }

  async $(selector) {
    return (await this.$$(selector))[0] ?? null;
  }

  async $$(selector) {
    const found = await this.run((d) => d.executeScript(`return (${FIND_ALL})(arguments[0]);`, selector));
    return found.map((element) => new ElementHandle(this, element));
  }

  async $eval(selector, fn, arg) {
    const handle = await this.$(selector);
    if (!handle) throw new Error(`page.$eval: no element matches '${selector}'`);
    return handle.evaluate(fn, arg);
  }

  $$eval(selector, fn, arg) {
    return this.evaluate(([sel, source, a, find]) => (0, eval)(`(${source})`)((0, eval)(`(${find})`)(sel), a),
      [selector, sourceOf(fn), arg ?? null, FIND_ALL]);
  }

  async textContent(selector) {
    return (await this.waitForSelector(selector, { state: 'attached' })).textContent();
  }

  async getAttribute(selector, name) {
    return (await this.waitForSelector(selector, { state: 'attached' })).getAttribute(name);
  }

  async inputValue(selector) {
    return (await this.waitForSelector(selector, { state: 'attached' })).evaluate((el) => el.value);
  }

  async click(selector) {
    await (await this.waitForSelector(selector)).click();
  }

  async focus(selector) {
    await (await this.waitForSelector(selector, { state: 'attached' })).evaluate((el) => el.focus());
  }

  // As Playwright's fill: focus, the whole value replaced, one `input`.
  async fill(selector, value) {
    await (await this.waitForSelector(selector)).evaluate((el, text) => {
      el.focus();
      el.value = text;
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertReplacementText', data: text }));
    }, value);
  }

  // 'Control+s', 'Enter', '/': modifiers held while the key goes down and up.
  press(combo) {
    const parts = combo.split(/\+(?!$)/);
    const key = keyOf(parts.pop());
    const modifiers = parts.map((m) => {
      if (!MODIFIERS.has(m)) throw new Error(`keyboard.press: '${m}' is not a modifier`);
      return KEYS[m];
    });
    return this.run((d) => {
      let actions = d.actions({ async: true });
      for (const m of modifiers) actions = actions.keyDown(m);
      actions = actions.keyDown(key).keyUp(key);
      for (const m of modifiers.reverse()) actions = actions.keyUp(m);
      return actions.perform();
    });
  }

  async screenshot({ path }) {
    const png = await this.run((d) => d.takeScreenshot());
    fs.writeFileSync(path, Buffer.from(png, 'base64'));
  }

  async addScriptTag({ path }) {
    await this.evaluate((source) => {
      const script = document.createElement('script');
      script.textContent = source;
      document.head.append(script);
    }, fs.readFileSync(path, 'utf8'));
  }

  // As a tab closing: the browser (the context) stays open. WebDriver ends
  // the session with its last window, so a blank window is opened first and
  // kept for the context's next page.
  async close() {
    const context = this.context;
    if (context.pages.length === 1 && !context.spareWindow) {
      context.spareWindow = await this.run(async (d) => {
        await d.switchTo().newWindow('window');
        return d.getWindowHandle();
      });
      context.session.window = context.spareWindow;
    }
    await this.run((d) => d.close());
    context.session.window = null;
    context.pages = context.pages.filter((p) => p !== this);
  }

  on(event) { throw unsupported(this.context.engine, `page.on('${event}') (the kit's page watcher reports errors)`); }
}

class Context {
  constructor(engine, session, stop, viewport) {
    this.engine = engine;
    this.session = session;
    this.stop = stop;
    this.viewport = viewport;
    this.pages = [];
    // A window no page has: the session's first, or the blank window left
    // by closing the last page (set by Browser.newContext and close()).
    this.spareWindow = null;
  }

  async newPage() {
    const handle = await this.session.run(null, async (d) => {
      if (this.spareWindow) {
        const spare = this.spareWindow;
        this.spareWindow = null;
        return spare;
      }
      // New Window needs a current window: after a page closed, the
      // driver's is gone, so any window of the session stands in.
      if (this.session.window === null) {
        await d.switchTo().window((await d.getAllWindowHandles())[0]);
      }
      await d.switchTo().newWindow('window');
      return d.getWindowHandle();
    });
    // The page's first command switches to its window.
    this.session.window = null;
    if (this.viewport) {
      const { width, height } = this.viewport;
      await this.session.run(handle, (d) => d.manage().window().setRect({ width, height }));
    }
    const page = new Page(this, handle);
    this.pages.push(page);
    return page;
  }

  addInitScript() { throw unsupported(this.engine, 'context.addInitScript'); }

  setOffline() { throw unsupported(this.engine, 'context.setOffline'); }

  newCDPSession() { throw unsupported(this.engine, 'context.newCDPSession'); }

  // Ends the session, even one whose driver stopped answering.
  async close() {
    try {
      await within(10000, this.session.driver.quit(), `quitting the ${this.engine} session`);
    } finally {
      await this.stop();
    }
  }
}

class Browser {
  constructor(engine) {
    this.engine = engine;
    this.contexts = new Set();
  }

  async newContext({ viewport } = {}) {
    const { driver, stop } = await within(COMMAND_LIMIT_MS, newSession(this.engine), `a new ${this.engine} session`);
    await driver.manage().setTimeouts({ script: 60000, pageLoad: 60000 });
    const context = new Context(this.engine, new Session(this.engine, driver), stop, viewport);
    context.spareWindow = await driver.getWindowHandle();
    const close = context.close.bind(context);
    context.close = async () => {
      this.contexts.delete(context);
      await close();
    };
    this.contexts.add(context);
    return context;
  }

  async close() {
    for (const context of [...this.contexts]) await context.close().catch(() => {});
  }
}

exports.launch = async (engine) => new Browser(engine);
