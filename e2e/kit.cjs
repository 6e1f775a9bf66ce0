// Helpers shared by the scenarios: the room-testkit control API, and page
// helpers for the demo UI.
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');

// The kit's control URL; the page helpers below work without a kit (the
// newcomer check drives a hub of its own).
const KIT = process.env.ROOM_TESTKIT_URL;

async function kit(p, method = 'GET', body) {
  if (!KIT) throw new Error('ROOM_TESTKIT_URL is not set: run through scripts/test.sh');
  const response = await fetch(`${KIT}${p}`, { method, body });
  if (!response.ok && response.status !== 404) {
    throw new Error(`${method} ${p}: ${response.status} ${await response.text()}`);
  }
  return response;
}
const kitJson = async (p, method) => (await kit(p, method)).json();
const kitPost = (p) => kitJson(p, 'POST');
async function kitFile(p) {
  const response = await kit(`/file/${p}`);
  return response.status === 404 ? null : response.text();
}

const SHOTS = path.resolve(__dirname, '..', 'out', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });
async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `e2e-${name}.png`) });
}

// axe-core (installed by scripts/setup.sh beside playwright-core): the
// WCAG 2.1 A and AA rules on the page as it is, in the state it is in. A
// screenshot of that state goes beside the others.
const AXE = require.resolve('axe-core/axe.min.js');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
async function accessible(page, state) {
  await shot(page, `state-${state}`);
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const { violations, passes } = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    WCAG_21_AA,
  );
  const found = violations.map((v) =>
    `${v.id}: ${v.help} (${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  assert.deepEqual(found, [], `axe-core in the ${state} state`);
  assert.ok(passes.length > 10, `axe-core ran its rules in the ${state} state`);
}

// The errors the kit's watched pages reported (room-testkit's page_watch):
// console errors, uncaught exceptions, unhandled rejections.
const forgetPageErrors = () => kit('/page-errors', 'DELETE');
async function noPageErrors() {
  const errors = await kitJson('/page-errors');
  assert.deepEqual(errors.map((e) => `${e.kind} on ${e.page}: ${e.text}`), [], 'the pages reported errors');
}

function status(page, value, timeout = 20000) {
  return page.waitForSelector(`.room-status[data-status="${value}"]`, { timeout });
}

async function openFile(page, file) {
  await page.click(`.room-files .file[data-path="${file}"]`);
  await page.waitForSelector(`.room-editor[aria-label="Editing ${file}"]`);
}

const editorText = (page) => page.$eval('textarea.code', (el) => el.value);

async function typeAndSave(page, file, text) {
  await openFile(page, file);
  await page.fill('textarea.code', text);
  await page.focus('textarea.code');
  await page.keyboard.press('Control+s');
}

async function eventRevs(page) {
  return page.$$eval('.room-events li[data-rev]', (items) => items.map((li) => Number(li.dataset.rev)));
}

async function until(check, what, timeout = 20000, every = 100) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The reconnect attempt the page's banner shows, and the step in force for
// it by the default schedule (src/reconnect.rs: 0.5 s doubling to 8 s);
// null when the page is not reconnecting.
async function reconnecting(page) {
  const live = await page.textContent('.room-connection .live');
  const found = /attempt (\d+)/.exec(live ?? '');
  if (!found) return null;
  const attempt = Number(found[1]);
  return { attempt, stepMs: Math.min(500 * 2 ** (attempt - 1), 8000) };
}

// What the page's IndexedDB `database` holds (`config.cacheDatabase`: the stores of
// src/cache/indexeddb.rs), read in the page with plain IndexedDB beside the
// app's own connection: files by path (`{path, rev, size}`, with `content`
// and its `contentRev` where one is cached), events oldest first, drafts by
// path, meta (the position) and profile. `null` when the room has no database (opening creates
// nothing: the upgrade a new database needs is aborted).
function cached(page, database) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    let created = false;
    open.onupgradeneeded = () => { created = true; open.transaction.abort(); };
    open.onerror = (event) => { event.preventDefault(); if (created) resolve(null); else reject(open.error); };
    open.onsuccess = () => {
      const db = open.result;
      // The stores of src/cache/indexeddb.rs: the tree in buckets (the
      // wire's tree JSON) beside the position, contents one record each.
      const tx = db.transaction(['tree', 'contents', 'events', 'drafts', 'profile'], 'readonly');
      const got = { files: {} };
      const tree = tx.objectStore('tree');
      tree.getAll(IDBKeyRange.upperBound(Infinity)).onsuccess = (e) => {
        for (const bucket of e.target.result) {
          for (const [path, rev, size] of JSON.parse(bucket).files) got.files[path] = { path, rev, size };
        }
      };
      tree.get('position').onsuccess = (e) => { got.meta = e.target.result ?? null; };
      tx.objectStore('contents').getAll().onsuccess = (e) => {
        // Requests answer in order: the tree is in by now.
        for (const { path, rev, content } of e.target.result) Object.assign(got.files[path] ?? (got.files[path] = { path }), { contentRev: rev, content });
      };
      tx.objectStore('events').getAll().onsuccess = (e) => { got.events = e.target.result; };
      tx.objectStore('drafts').getAll().onsuccess = (e) => { got.drafts = Object.fromEntries(e.target.result.map((d) => [d.path, d.draft])); };
      tx.objectStore('profile').get('profile').onsuccess = (e) => { got.profile = e.target.result ?? null; };
      tx.oncomplete = () => { db.close(); resolve(got); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  }), database);
}

// Plays another tab of a newer build: opens the room's `database`
// (`config.cacheDatabase`) in `page` (a
// page of the room's origin) at the next schema version, with a store this
// build does not know, and waits until every old connection has let go.
// Resolves to the new version.
function upgradeSchema(page, database) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const probe = indexedDB.open(name);
    probe.onerror = () => reject(probe.error);
    probe.onsuccess = () => {
      const { version, objectStoreNames } = probe.result;
      probe.result.close();
      // A page that does not share the room page's storage would upgrade
      // an empty database of its own and test nothing.
      if (objectStoreNames.length === 0) return reject(new Error(`${name} is empty in this page: not the room's storage`));
      const open = indexedDB.open(name, version + 1);
      const blocked = setTimeout(() => reject(new Error(`the upgrade to version ${version + 1} stayed blocked by an old connection`)), 10000);
      open.onupgradeneeded = () => open.result.createObjectStore(`next-${version + 1}`);
      open.onerror = () => { clearTimeout(blocked); reject(open.error); };
      open.onsuccess = () => { clearTimeout(blocked); open.result.close(); resolve(version + 1); };
    };
  }), database);
}

// The offline shell (`room-hub --write-shell`'s sw.js, registered by
// room-client) has installed and controls the page.
async function shellInControl(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await until(() => page.evaluate(() => navigator.serviceWorker.controller !== null), 'the offline shell in control');
}

// The build a page runs, as `room-hub --write-shell` named it in its head.
const shellBuild = (page) => page.getAttribute('meta[name="room-shell-build"]', 'content');

module.exports = { shellInControl, shellBuild, forgetPageErrors, noPageErrors, kit, kitJson, kitPost, kitFile, shot, accessible, status, openFile, editorText, typeAndSave, eventRevs, until, sleep, cached, reconnecting, upgradeSchema };
