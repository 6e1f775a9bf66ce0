// The newcomer's app (newcomer/, as the README's Embedding section builds
// it), served by a room-hub of its own: in Chromium, it connects, lists the
// files, styled with no stylesheet of its own, saves an edit to the
// project's disk, and with the hub gone reloads from its offline shell.
// Run by scripts/newcomer.sh: node e2e/newcomer.cjs HUB_BIN PROJECT WEB.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch } = require('./browser.cjs');
const gen = require('./generated-room.cjs');
const k = require('./kit.cjs');

const [project, web] = process.argv.slice(2);

(async () => {
  let { child: hub, link } = await gen.startHub(project, 'debug', web);
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) errors.push(m.text()); });
    await page.goto(link);
    await k.status(page, 'connected');
    const files = await page.$$eval('.room-files .file', (els) => els.map((e) => e.dataset.path));
    assert.ok(files.includes('README.md') && files.length >= 4, `the files listed: ${files}`);
    assert.equal(await page.$eval('.room', (e) => getComputedStyle(e).display), 'grid', 'styled by the crate');
    // An edit, saved to the project's disk.
    await k.typeAndSave(page, 'README.md', 'Saved by a newcomer\n');
    await k.until(() => fs.readFileSync(path.join(project, 'README.md'), 'utf8') === 'Saved by a newcomer\n', 'the edit on disk');
    // The offline shell in control; then no hub at all, and a reload.
    await k.shellInControl(page);
    hub.kill('SIGKILL');
    await new Promise((resolve) => hub.once('exit', resolve));
    hub = null;
    await page.reload();
    await page.waitForSelector('.room-files .file[data-path="README.md"]');
    await k.openFile(page, 'README.md');
    assert.equal(await k.editorText(page), 'Saved by a newcomer\n', 'the file from the cache');
    assert.notEqual(await page.getAttribute('.room-status', 'data-status'), 'connected');
    await k.shot(page, 'newcomer-offline');
    assert.deepEqual(errors, [], 'no error in the page');
    console.log(`newcomer: joined, ${files.length} files, saved to disk, reloaded offline`);
  } finally {
    hub?.kill('SIGKILL');
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
