// Links the host controls (issue 30), end to end, on a room-hub of its own
// (replacing links would cut every other scenario's pages off the kit's
// room): the host's page regenerates the view link, then the edit link,
// then turns the view link off, by keyboard and by click; the pages on
// the old links say so at once, never retry, and lose nothing. The hub is
// bound to this machine's LAN address where it has one, so the pages are
// on plain http (not a secure context), as on a LAN link. The page is the
// kit's watched copy (`config.webDir`): an error in it fails the scenario.
// Run by scripts/test.sh (`node --test e2e/`).
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
let links;
let config;

const lanAddress = () => Object.values(os.networkInterfaces()).flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
const tokenOf = (link) => new URL(link).searchParams.get('token');
const roomOf = (link) => new URL(link).pathname.split('/')[2];

before(async () => {
  config = await k.kitJson('/config');
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'room-links-'));
  fs.cpSync(path.join(__dirname, '..', 'sample-project'), project, { recursive: true });
  hub = await gen.startHub(project, 'debug', config.webDir, ['--token', 'READONLY', '--bind', lanAddress()]);
  links = { edit: hub.link, view: hub.viewLink, host: hub.hostLink };
  browser = await launch();
});

beforeEach(() => k.forgetPageErrors());
afterEach(() => k.noPageErrors());

after(async () => {
  hub?.child.kill('SIGKILL');
  await browser?.close();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

// The hub's count of WebSocket upgrades to the room, whatever their token.
async function socketAttempts() {
  const health = await (await fetch(`${new URL(links.host).origin}/healthz`)).json();
  return health.rooms[roomOf(links.host)].connections.attempts;
}

test('25. the host regenerates and turns off links: the old links stop at once and say so, nothing is lost, the new ones work', async (t) => {
  const contexts = [];
  t.after(() => Promise.all(contexts.map((c) => c.close())));
  // A person in a browser of their own (`context`: another tab of it).
  const person = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    return { context, page: await context.newPage() };
  };
  const open = async (who, link, status = 'connected') => {
    await who.page.goto(link);
    await k.status(who.page, status);
    return who;
  };
  const replacedWithin = async (page, ms, what) => {
    await page.waitForSelector('[data-banner="link-replaced"]', { timeout: ms });
    assert.equal(await page.textContent('[data-banner="link-replaced"] span'),
      'The host replaced this link. Ask them for the new one.', what);
    assert.equal(await page.getAttribute('[data-banner="link-replaced"]', 'role'), 'alert');
  };

  const host = await open(await person(), links.host);
  const field = (kind) => host.page.inputValue(`#room-${kind}-link`);
  // The host's page shows the edit and view links, never its own.
  assert.equal(await field('edit'), links.edit);
  assert.equal(await field('view'), links.view);
  const dom = await host.page.evaluate(() => document.documentElement.outerHTML);
  assert.ok(!dom.includes(tokenOf(links.host)), 'the host token is nowhere in the page');
  assert.equal(await host.page.evaluate(() => window.isSecureContext), new URL(links.host).hostname.startsWith('127.'),
    'on a LAN address the page is plain http, not a secure context');
  // Copy works there too (the selection fallback) and says so.
  await host.page.click('button[aria-label="Copy the edit link"]');
  await k.until(async () => (await host.page.textContent('.room-host-said')) === 'Edit link copied.', 'the copy said so', 5000);
  await k.accessible(host.page, 'host-links');

  const editor = await open(await person(), links.edit);
  assert.equal((await editor.page.$$('.room-host-links')).length, 0, 'an editor has no host controls');
  assert.equal((await editor.page.$$('button:text-is("Copy room link")')).length, 1);
  const file = 'todo.txt';
  const draft = `typed before the link was replaced, ${Date.now()}`;
  await k.openFile(editor.page, file);
  await editor.page.fill('textarea.code', draft);
  const database = `solaro-room-${roomOf(links.edit)}`;
  await k.until(async () => (await k.cached(editor.page, database))?.drafts?.[file]?.content === draft,
    'the draft in IndexedDB', 5000);
  const viewer = await open(await person(), links.view);
  await viewer.page.waitForSelector('[data-banner="view-only"]');
  assert.equal((await viewer.page.$$('.room-host-links')).length, 0, 'a viewer has no host controls');

  // The view link, regenerated by keyboard: Regenerate, then the
  // confirmation, which takes the focus.
  await host.page.focus('button[aria-label="Regenerate the view-only link"]');
  await host.page.keyboard.press('Enter');
  await host.page.waitForSelector('.room-confirm');
  assert.equal(await host.page.textContent('.room-confirm p'), 'Everyone using the old link will be disconnected.');
  assert.equal(await host.page.evaluate(() => document.activeElement.textContent), 'Regenerate the view-only link');
  await k.accessible(host.page, 'host-confirm');
  const attempts = await socketAttempts();
  const asked = Date.now();
  await host.page.keyboard.press('Enter');
  await replacedWithin(viewer.page, 1000, 'the viewer');
  const took = Date.now() - asked;
  assert.ok(took <= 1000, `the viewer said so ${took} ms after the confirmation`);
  t.diagnostic(`the viewer said the link was replaced ${took} ms after the host confirmed`);
  // It stays so, and never tries again (longer than three backoff steps).
  await k.sleep(4000);
  assert.equal(await socketAttempts(), attempts, 'no page tried to connect again');
  await viewer.page.waitForSelector('[data-banner="link-replaced"]');
  assert.equal(await viewer.page.getAttribute('.room-status', 'data-status'), 'error');
  // The host's field shows the new link (from the hub's `links` frame).
  const newView = await k.until(async () => { const v = await field('view'); return v !== links.view && v; }, 'the new view link', 5000);
  assert.equal(await host.page.textContent('.room-host-said'), 'A new view-only link is ready; the old one no longer works.');
  const viewer2 = await open(await person(), newView);
  await viewer2.page.waitForSelector('[data-banner="view-only"]');
  await k.status(host.page, 'connected');

  // The edit link, regenerated by click.
  await host.page.click('button[aria-label="Regenerate the edit link"]');
  await host.page.click('.room-confirm button.danger');
  await replacedWithin(editor.page, 1000, 'the editor');
  // Nothing is lost: the draft is in the tab, and downloads as a file.
  assert.equal(await k.editorText(editor.page), draft);
  await k.accessible(editor.page, 'link-replaced');
  // The button hands the browser a link to a blob; caught here instead of
  // a download dialog, the same in every engine.
  await editor.page.evaluate(() => {
    window.__downloads = [];
    HTMLAnchorElement.prototype.click = function () { window.__downloads.push([this.getAttribute('download'), this.href]); };
  });
  await editor.page.focus('[data-banner="link-replaced"] button[data-action="download-unsaved"]');
  await editor.page.keyboard.press('Enter');
  const download = await k.until(() => editor.page.evaluate(async () => {
    const [saved] = window.__downloads;
    return saved && { name: saved[0], body: await (await fetch(saved[1])).json() };
  }), 'the download', 5000);
  assert.equal(download.name, `${roomOf(links.edit)}-unsaved-changes.json`);
  assert.deepEqual(download.body.drafts.map((d) => [d.path, d.content]), [[file, draft]]);
  const newEdit = await k.until(async () => { const v = await field('edit'); return v !== links.edit && v; }, 'the new edit link', 5000);
  // The old link is refused to a new page.
  const late = await open(await person(), links.edit, 'error');
  await late.page.waitForSelector('[data-banner="unauthorized"]');
  // A tab opened without the link in the editor's browser asks the other
  // tabs for the token: the replaced one does not answer.
  const bare = `${new URL(links.edit).origin}/rooms/${roomOf(links.edit)}/`;
  const asking = await open({ page: await editor.context.newPage() }, bare, 'error');
  await asking.page.waitForSelector('[data-banner="needs-token"]');
  await asking.page.close();
  // The new link, opened in the editor's browser: the draft is back, and
  // saves as usual.
  const again = { page: await editor.context.newPage() };
  await open(again, newEdit);
  // Now a tab without the link borrows the new token.
  const borrowing = await open({ page: await editor.context.newPage() }, bare);
  await borrowing.page.close();
  await k.openFile(again.page, file);
  assert.equal(await k.editorText(again.page), draft, 'the draft is back');
  await again.page.focus('textarea.code');
  await again.page.keyboard.press('Control+s');
  await k.until(() => fs.readFileSync(path.join(project, file), 'utf8') === draft, 'the draft on disk');

  // The view link, turned off: its pages stop, and it lets nobody in.
  await host.page.click('[data-link="view"] button:text-is("Turn off")');
  await host.page.click('.room-confirm button.danger');
  await replacedWithin(viewer2.page, 1000, 'the second viewer');
  await host.page.waitForSelector('[data-link="view"] button:text-is("Turn on")');
  assert.equal((await host.page.$$('#room-view-link')).length, 0, 'no view link to copy');
  const refused = await open(await person(), newView, 'error');
  await refused.page.waitForSelector('[data-banner="unauthorized"]');
  // And on again, with a new token.
  await host.page.click('[data-link="view"] button:text-is("Turn on")');
  const thirdView = await k.until(async () => (await host.page.$$('#room-view-link')).length && field('view'), 'the view link on again', 5000);
  assert.notEqual(thirdView, newView);
  await open(await person(), thirdView);
  await k.status(host.page, 'connected');
  await k.shot(host.page, '25-host-links');
});
