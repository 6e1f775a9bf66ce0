// A room over a generated project of 20,000 files (nested folders, about
// 1 KB each, plus ignored folders beside them: e2e/generated-room.cjs), served by a room-hub of
// its own (target/debug/room-hub, built by scripts/test.sh): join, find a
// deep file by name and open it, edit and save it, open a file changed on
// disk that the page never had, follow a link to a file, and with the hub
// gone, reload and still see the tree and the opened file.
// The page is the kit's watched copy: an error in it fails the scenario.
// Run by scripts/test.sh (`node --test e2e/`).
const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('./browser.cjs');
const k = require('./kit.cjs');

const FILES = 20000;
const FILE_BYTES = 1000;
const gen = require('./generated-room.cjs');
const fileAt = gen.fileAt;
const contentOf = (i) => gen.contentOf(i, FILE_BYTES);

let browser;
let project;
let hub;
let link;

before(async () => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'room-large-'));
  gen.generate(project, FILES, FILE_BYTES);
  const { webDir } = await k.kitJson('/config');
  ({ child: hub, link } = await gen.startHub(project, 'debug', webDir));
  browser = await launch();
});

beforeEach(() => k.forgetPageErrors());
afterEach(() => k.noPageErrors());

after(async () => {
  hub?.kill('SIGKILL');
  await browser?.close();
  fs.rmSync(project, { recursive: true, force: true });
});

// `/` focuses the Find box from the page, Ctrl+P from anywhere (the
// editor included, where `/` is a slash); the box's text is selected, so
// typing replaces it.
async function findAndOpen(page, name, file, shortcut) {
  if (shortcut === '/') await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press(shortcut);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Find a file', `${shortcut} focuses the Find box`);
  await page.keyboard.type(name);
  await page.waitForSelector(`.room-files .file[data-path="${file}"]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.room-editor[aria-label="Editing ${file}"]`);
}

const editorHolds = (page, text) => k.until(async () => (await k.editorText(page)) === text, 'the file in the editor');

test('21. a room over 20,000 files: find a deep file, edit it, a file changed on disk, a link to a file, and offline', { timeout: 300000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(link);
  await k.status(page, 'connected', 60000);
  await page.waitForSelector('.room-files .folder[data-path="pkg019"]');
  console.log(`scenario 21: ${FILES} files, connected with the tree on screen ${Date.now() - started} ms after the link opened`);
  // A large tree starts closed, and only what the rules let in is there.
  assert.equal(await page.$('.room-files .folder[data-path="build"]'), null, '.gitignore keeps build/ out');
  assert.equal(await page.$('.room-files .folder[data-path="node_modules"]'), null);
  assert.equal(await page.$('.room-files .file[data-path="debug.log"]'), null);
  assert.ok((await page.$$('.room-files .tree li')).length < 400, 'only rows in view are in the page');

  // Find a deep file by name and open it; its content comes on demand.
  const deep = 17345;
  await findAndOpen(page, `f${deep}.rs`, fileAt(deep), '/');
  await editorHolds(page, contentOf(deep));
  const address = await page.evaluate(() => location.href);
  assert.equal(new URL(address).hash, `#/${fileAt(deep)}`, 'the address names the file');
  assert.ok(!address.includes('token'), 'and never the token');
  await k.accessible(page, 'large-room');

  // Edit and save it: on disk.
  const edited = `${contentOf(deep)}// edited in the browser\n`;
  await page.fill('textarea.code', edited);
  await page.focus('textarea.code');
  await page.keyboard.press('Control+s');
  await k.until(() => fs.readFileSync(path.join(project, fileAt(deep)), 'utf8') === edited, 'the edit on disk');

  // A file the page never opened changes on disk: opened, it shows the new text.
  const other = 3210;
  const changed = `${contentOf(other)}// changed on disk\n`;
  fs.writeFileSync(path.join(project, fileAt(other)), changed);
  await k.sleep(500);
  await findAndOpen(page, `f${other}.rs`, fileAt(other), 'Control+p');
  await editorHolds(page, changed);

  // A link to a file opens it.
  const linked = 9876;
  await page.goto(`${new URL(link).origin}${new URL(link).pathname}#/${fileAt(linked)}`);
  await page.waitForSelector(`.room-editor[aria-label="Editing ${fileAt(linked)}"]`);
  await editorHolds(page, contentOf(linked));
  await k.status(page, 'connected', 60000);

  // The opened file is in the page's cache before the hub goes: contents
  // are written behind the screen, and at 20,000 files WebKit's storage
  // can still be busy with the prefetch and the shell's install.
  const database = `solaro-room-${new URL(link).pathname.split('/')[2]}`;
  const cachedContent = () => page.evaluate(({ name, path }) => new Promise((resolve) => {
    const open = indexedDB.open(name);
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const get = open.result.transaction('contents').objectStore('contents').get(path);
      get.onsuccess = () => { resolve(get.result?.content ?? null); open.result.close(); };
      get.onerror = () => { resolve(null); open.result.close(); };
    };
  }), { name: database, path: fileAt(linked) });
  await k.until(async () => (await cachedContent()) === contentOf(linked), 'the opened file in the page cache', 60000, 250);

  // The hub goes; a reload still shows the tree and the opened file.
  await k.shellInControl(page);
  hub.kill('SIGKILL');
  hub = null;
  await page.reload({ timeout: 30000 });
  await page.waitForSelector('.room-files .folder[data-path="pkg019"]', { timeout: 30000 });
  await page.waitForSelector(`.room-editor[aria-label="Editing ${fileAt(linked)}"]`);
  await editorHolds(page, contentOf(linked));
  await k.shot(page, '21-large-offline');
  await context.close();
});
