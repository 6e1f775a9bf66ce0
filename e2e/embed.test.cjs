// The embedding example (examples/embed: its own UI, room-client without
// the default UI) served by a room-hub of its own, with the offline shell
// it adopted as any app does (`room-hub --write-shell` as a trunk hook):
// it joins, the shell takes control, and with the hub gone a reload still
// opens the app from the shell, with the room from its cache.
// The page is the kit's watched copy (`--embed-web`): an error in it fails
// the scenario. Run by scripts/test.sh (`node --test e2e/`).
const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('./browser.cjs');
const k = require('./kit.cjs');
const gen = require('./generated-room.cjs');

let browser;
let project;
let hub;
let link;
let embedWebDir;

before(async () => {
  ({ embedWebDir } = await k.kitJson('/config'));
  if (!embedWebDir) return;
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'room-embed-'));
  fs.cpSync(path.join(__dirname, '..', 'sample-project'), project, { recursive: true });
  ({ child: hub, link } = await gen.startHub(project, 'debug', embedWebDir));
  browser = await launch();
});

beforeEach(() => k.forgetPageErrors());
afterEach(() => k.noPageErrors());

after(async () => {
  hub?.kill('SIGKILL');
  await browser?.close();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('24. an app that embeds room-client (examples/embed) reloads with no hub at all, from the offline shell it adopted', async (t) => {
  if (!embedWebDir) return t.skip('the kit was started without --embed-web');
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(link);
  await page.waitForSelector('main p:has-text("is live.")');
  const fileCount = async () => /^(\d+) files,/.exec(await page.textContent('main p:has-text("files,")'))?.[1];
  const files = await fileCount();
  assert.ok(Number(files) > 0, `the room arrived: ${files} files`);
  // The shell this build names in its head installed and took control.
  const build = await k.shellBuild(page);
  assert.match(build ?? '', /^[0-9a-f]{16}$/);
  await k.shellInControl(page);

  // The hub is gone: nothing answers at its address.
  hub.kill('SIGKILL');
  await new Promise((resolve) => hub.once('exit', resolve));
  hub = null;
  await page.reload();
  await page.waitForSelector('main h1:has-text("My project dashboard")');
  assert.equal(await k.shellBuild(page), build, 'the page the shell holds');
  // The room from the page's cache, and the app says it is trying.
  await page.waitForSelector('main p:has-text("is reconnecting")');
  assert.equal(await fileCount(), files, 'the files from the cache');
  await k.shot(page, '24-embed-offline');
});
