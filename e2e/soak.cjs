// The fault soak: real Chromium tabs in one room, a seeded schedule of
// faults through room-testkit (proxy faults, hub kill -9 and restarts, a
// new generation, writes to the folder, reloads, tabs closed and reopened,
// the browser offline, another tab upgrading the IndexedDB schema),
// scripted people typing and saving meanwhile (the view-only one too), and
// the promises checked as invariants while it runs and at the end.
//
// Run by scripts/soak.sh MINUTES [SEED]. The whole schedule of faults
// (kinds, durations, which tab) and of moves (who, which file, saved or
// not) is drawn from the seed before anything runs, so the same seed runs
// the same schedules wherever it runs; only how the two interleave follows
// the machine's timing. `node e2e/soak.cjs --plan MINUTES SEED` prints the
// fault schedule without running it (no testkit needed).
const assert = require('node:assert/strict');

const PLAN_ONLY = process.argv[2] === '--plan';
const MINUTES = Number((PLAN_ONLY ? process.argv[3] : process.env.SOAK_MINUTES) || 2);
const SEED = Number((PLAN_ONLY ? process.argv[4] : process.env.SOAK_SEED) ?? Math.floor(Math.random() * 2 ** 31));

// mulberry32: a small seeded generator, the same sequence for a seed.
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const between = (random, low, high) => low + Math.floor(random() * (high - low + 1));
const pick = (random, items) => items[Math.floor(random() * items.length)];

// The tabs: two people editing (a, b) and one with the view-only link (v),
// each in a browser context of its own (its own storage: a person).
const EDITORS = ['a', 'b'];
const TABS = ['a', 'b', 'v'];
// Files: each editor owns three, two at the root and one in a folder, which
// nobody else ever writes (a conflict view there has no other writer: the
// soak fails on any); both edit the shared one, the viewer tries them all;
// the folder's own writes go to a file nobody edits in a page.
const OWN = {
  a: ['a1.txt', 'a2.txt', 'notes/a3.txt'],
  b: ['b1.txt', 'b2.txt', 'notes/b3.txt'],
};
const SHARED = 'notes/shared.txt';
const OUTSIDE = 'outside.txt';
const EDITED = [...OWN.a, ...OWN.b, SHARED];
const ownerOf = (file) => EDITORS.find((name) => OWN[name].includes(file)) ?? null;
// Files that sort before the people's and hold more than a page prefetches
// (16 MiB, SessionOptions::prefetch_bytes): the people's files are never
// prefetched, so after every snapshot their contents come on demand, when
// the person opens them.
const FILLER_FILES = 18;
const FILLER_BYTES = 1_000_000;

// The faults: each draws what it needs (how long, which tab) when the
// schedule is made, and `ms` is its planned length, for --plan.
const FAULT_KINDS = {
  blackhole: (r) => ({ ms: between(r, 1, 40) * 1000 }),
  wifiDrop: (r) => ({ ms: between(r, 1, 40) * 1000 }),
  reset: () => ({ ms: 0 }),
  refuse: (r) => ({ ms: between(r, 1, 10) * 1000 }),
  delay: (r) => ({ delayMs: between(r, 100, 2000), ms: between(r, 5, 20) * 1000 }),
  hubKill: (r) => ({ ms: between(r, 0, 5) * 1000 }),
  newGeneration: (r) => ({ text: `changed while the hub was down ${between(r, 0, 1e6)}\n`, ms: 0 }),
  folderWrite: (r) => ({ text: `written outside ${between(r, 0, 1e6)}\n`, ms: 0 }),
  reload: (r) => ({ tab: pick(r, TABS), ms: 0 }),
  reopen: (r) => ({ tab: pick(r, TABS), ms: 0 }),
  offline: (r) => ({ tab: pick(r, TABS), ms: between(r, 1, 20) * 1000 }),
  schemaUpgrade: (r) => ({ tab: pick(r, TABS), ms: 0 }),
};
// Blackholes and Wi-Fi drops leave flows that look alive: only the
// 20 s dead-connection timer notices them.
const SILENT_FAULTS = ['blackhole', 'wifiDrop'];
const DEAD_AFTER_MS = 20000;

// The schedule for MINUTES, with at least one fault after the end of the
// planned time so the list never runs short: each fault, then a pause of
// 1–8 s. Two streams from the seed, one for the faults and one for the
// people, so each sequence is the same wherever it runs.
function faultSchedule(seed, minutes) {
  const random = generator(seed);
  const faults = [];
  for (let at = 0; at < minutes * 60_000 + 60_000;) {
    const kind = pick(random, Object.keys(FAULT_KINDS));
    const fault = { kind, ...FAULT_KINDS[kind](random), pauseMs: between(random, 1000, 8000), atMs: at };
    faults.push(fault);
    at += fault.ms + fault.pauseMs;
  }
  return faults;
}
function* moves(seed) {
  const random = generator(seed ^ 0x9e3779b9);
  for (;;) {
    // The view-only person tries a fifth of the moves.
    const tab = random() < 0.2 ? 'v' : pick(random, EDITORS);
    const file = tab === 'v' ? pick(random, EDITED) : random() < 0.7 ? pick(random, OWN[tab]) : SHARED;
    const save = tab === 'v' || random() < 0.85;
    // A third of an editor's saves of their own files are followed at once
    // by another line and a second save, while the first may still be
    // sending.
    const twice = save && tab !== 'v' && file !== SHARED && random() < 0.33;
    yield { tab, file, save, twice, pauseMs: between(random, 1000, 4000) };
  }
}

if (PLAN_ONLY) {
  // What the first MINUTES run, by planned time: which kinds it covers.
  const kinds = new Set();
  for (const fault of faultSchedule(SEED, MINUTES)) {
    if (fault.atMs >= MINUTES * 60_000) break;
    kinds.add(fault.kind);
    console.log(`${(fault.atMs / 1000).toFixed(0).padStart(5)} s  ${fault.kind}${fault.tab ? ` ${fault.tab}` : ''}${fault.ms ? ` ${fault.ms / 1000} s` : ''}`);
  }
  const missing = Object.keys(FAULT_KINDS).filter((k) => !kinds.has(k));
  console.log(`seed ${SEED}: ${kinds.size} of ${Object.keys(FAULT_KINDS).length} kinds${missing.length ? `; missing ${missing.join(' ')}` : ''}`);
  process.exit(0);
}

const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');
const k = require('./kit.cjs');

// The hub's memory: its replay log is capped at 64 MiB and each peer's
// queue at 16 MiB (docs/PROTOCOL.md); four peers (the three tabs and the
// soak's own observer), the filler the content cache holds, and 16 MiB for
// the rest.
const HUB_RSS_BOUND_KIB = (64 + 4 * 16 + 16) * 1024 + Math.ceil((FILLER_FILES * FILLER_BYTES) / 1024);

const failures = [];
const stats = {
  faults: {}, edits: 0, saves: 0, savedAgainWhileSending: 0, viewerEdits: 0, movesWaiting: 0, lost: 0,
  conflictViewsWithoutAnotherWriter: 0, conflictViews: 0, duplicateEvents: 0,
  historyChecks: 0, editChecks: 0, longestRecoveryMs: 0, hubRssPeakKiB: 0,
};
const startedAt = Date.now();
// SOAK_TRACE=1 prints every move and fault with its time, to replay a
// failure by reading.
const trace = (what) => { if (process.env.SOAK_TRACE) console.log(`${((Date.now() - startedAt) / 1000).toFixed(1).padStart(7)} s  ${what}`); };
function fail(what) {
  failures.push(what);
  console.error(`soak: ${what}`);
  trace(`FAIL ${what}`);
}
async function sampleHub() {
  const { hubRssKiB } = await k.kitJson('/stats');
  if (hubRssKiB) stats.hubRssPeakKiB = Math.max(stats.hubRssPeakKiB, hubRssKiB);
}

let browser;
let config;
const link = (token) => `${config.proxyHttp}/rooms/${config.roomId}/?token=${token}`;

// Every save the people asked for, by file, in the order they asked:
// what "a later saved edit replaced it" is measured against.
let moveSeq = 0;
const saves = Object.fromEntries(EDITED.map((f) => [f, []]));

// A tab: its context (a person), page, token and what its person did:
// per file, the last text typed, when, and whether it was saved.
async function openTab(name, token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tab = { name, token, context, page: null, lastEdit: {}, seq: 0, upgraded: false, turn: Promise.resolve() };
  await attach(tab, await context.newPage());
  await tab.page.goto(link(token));
  await k.status(tab.page, 'connected', 30000);
  return tab;
}

async function attach(tab, page) {
  tab.page = page;
  page.on('pageerror', (error) => fail(`${tab.name}: uncaught ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/WebSocket|net::ERR_|Failed to load resource/.test(message.text())) {
      fail(`${tab.name}: console error ${message.text()}`);
    }
  });
}

// Runs `action` on the tab once whatever else holds it is done: a person's
// move and its check, or a reload. A reload then comes right after the
// keystrokes (the pagehide copy's case), never between two of them, so
// what the person did is always known.
function exclusive(tab, action) {
  const run = tab.turn.then(action);
  tab.turn = run.catch(() => {});
  return run;
}

// What a tab shows, read in one go (one rendered state): its status; each
// listed file's marker ('draft', 'conflict', 'refused' or null); and its
// events, newest first, with the pulse counter of each.
function view(tab) {
  return tab.page.evaluate(() => {
    const files = {};
    for (const button of document.querySelectorAll('.room-files .file')) {
      const m = button.querySelector('.marker');
      files[button.dataset.path] = m ? [...m.classList].find((c) => c !== 'marker') : null;
    }
    const events = [...document.querySelectorAll('.room-events li[data-rev]')].map((li) => ({
      rev: Number(li.dataset.rev),
      n: Number(/"n":(\d+)/.exec(li.querySelector('.data')?.textContent ?? '')?.[1] ?? NaN),
    }));
    return { status: document.querySelector('.room-status')?.dataset.status, files, events };
  });
}

// The page publishes its state once per display frame: after two frames,
// what the person just did is on screen (a fresh draft's marker).
const settled = (tab) => tab.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

// One person's move: type a new line into a file, and maybe save it (and,
// for `twice`, type another and save again at once, while the first save
// may still be sending). In their own files a person adds a line to what
// the editor shows; in the shared one the line replaces the text. A file
// the tab does not list yet, or whose content has not come (the editor
// waits for it, read-only), waits for a later move, as a person would.
async function move(tab, { file, save, twice }) {
  if (!(file in (await view(tab)).files)) {
    stats.movesWaiting += 1;
    return;
  }
  await k.openFile(tab.page, file);
  if (await tab.page.$eval('textarea.code', (el) => el.readOnly)) {
    stats.movesWaiting += 1;
    return;
  }
  const appends = file !== SHARED;
  const type = async () => {
    const line = `${tab.name} ${++tab.seq}\n`;
    const text = appends ? (await k.editorText(tab.page)) + line : line;
    await tab.page.fill('textarea.code', text);
    return text;
  };
  const saveNow = async () => {
    await tab.page.focus('textarea.code');
    await tab.page.keyboard.press('Control+s');
  };
  const record = (text, saved) => {
    trace(`${tab.name} ${saved ? 'saves' : 'types'} ${file}: ${JSON.stringify(text.slice(-12))}`);
    const seq = ++moveSeq;
    tab.lastEdit[file] = { text, seq, saved };
    if (tab.name === 'v') {
      stats.viewerEdits += 1;
      return;
    }
    stats.edits += 1;
    if (saved) {
      stats.saves += 1;
      saves[file].push({ by: tab.name, text, seq });
    }
  };
  record(await type(), save);
  if (save) await saveNow();
  if (!twice) return;
  await settled(tab);
  const sending = await tab.page.$('.room-editor .draft-state[data-draft="in-flight"]');
  record(await type(), true);
  await saveNow();
  if (sending) stats.savedAgainWhileSending += 1;
}

// Settles a conflict the way a person keeping their own text would: that
// is a save of their last edit again. A conflict view on a file that only
// this person writes is a conflict nobody caused: counted, and a failure.
async function settleConflicts(tab) {
  const { files } = await view(tab);
  for (const [file, edit] of Object.entries(tab.lastEdit)) {
    if (files[file] !== 'conflict') continue;
    stats.conflictViews += 1;
    if (ownerOf(file) === tab.name) {
      stats.conflictViewsWithoutAnotherWriter += 1;
      fail(`${tab.name}: the conflict view opened on ${file}, which nobody else writes`);
    }
    await k.openFile(tab.page, file);
    const save = await tab.page.$('.conflict button.primary');
    if (!save) continue;
    await save.click();
    trace(`${tab.name} keeps its own text of ${file} in the conflict view`);
    const seq = ++moveSeq;
    tab.lastEdit[file] = { ...edit, seq, saved: true };
    if (tab.name !== 'v') saves[file].push({ by: tab.name, text: edit.text, seq });
  }
}

// The text a tab holds for a file: its draft's if it has one.
async function textIn(tab, file) {
  await k.openFile(tab.page, file);
  return k.editorText(tab.page);
}

// A line the view-only person typed.
const VIEWER_LINE = /^v \d+$/m;

// The invariants, on one tab:
// - no event is shown twice, events newest first, and once the tab has
//   synced its history is contiguous: the hub's only runtime events here
//   are its pulses, numbered 1, 2, 3… in each hub run, so a gap in the
//   numbers is an event missed;
// - every edit of this tab's person is on disk, or still in the tab as a
//   draft or conflict holding that text (reloads included), or was saved
//   and then replaced by someone else's later save; the view-only
//   person's edits are never on disk and never leave the tab.
async function check(tab) {
  await settled(tab);
  const shown = await view(tab);
  const revs = shown.events.map((e) => e.rev);
  const unique = new Set(revs);
  if (unique.size !== revs.length) {
    stats.duplicateEvents += revs.length - unique.size;
    fail(`${tab.name}: an event shown twice: ${revs.join(',')}`);
  }
  if (!revs.every((rev, i) => i === 0 || rev < revs[i - 1])) fail(`${tab.name}: events out of order: ${revs.join(',')}`);
  if (shown.status === 'connected') {
    stats.historyChecks += 1;
    const gap = shown.events.findIndex((e, i) => i > 0 && e.n !== shown.events[i - 1].n - 1);
    if (gap > 0) {
      fail(`${tab.name}: a gap in the event history: pulse ${shown.events[gap].n} (rev ${shown.events[gap].rev}) follows pulse ${shown.events[gap - 1].n} (rev ${shown.events[gap - 1].rev})`);
    }
  }
  // Read after the tab: a file it showed without a draft was saved by then.
  const disk = {};
  for (const file of EDITED) disk[file] = await k.kitFile(file);
  trace(`${tab.name} checks: ${SHARED} on disk ${JSON.stringify(disk[SHARED])}, its marker ${shown.files[SHARED]}, status ${shown.status}`);
  for (const [file, edit] of Object.entries(tab.lastEdit)) {
    // Not listed yet: the page is loading; the next check sees it.
    if (!(file in shown.files)) continue;
    stats.editChecks += 1;
    if (shown.files[file] !== null) {
      const text = await textIn(tab, file);
      if (text === edit.text) continue;
      // Its save landed between the two reads.
      if ((await view(tab)).files[file] === null && (await k.kitFile(file)) === edit.text) continue;
      fail(`${tab.name}: ${file} shows a ${shown.files[file]} holding ${JSON.stringify(text)}, not the last edit ${JSON.stringify(edit.text)}`);
      continue;
    }
    if (tab.name === 'v') {
      fail(`v: the view-only edit of ${file} (${JSON.stringify(edit.text)}) left the tab`);
      continue;
    }
    if (disk[file] === edit.text) continue;
    if (edit.saved && saves[file].some((s) => s.by !== tab.name && s.seq > edit.seq && s.text === disk[file])) continue;
    // A draft shows only by being on screen: one painted since the first
    // read (a reload under the check) is looked at next time.
    if ((await view(tab)).files[file] !== null) continue;
    stats.lost += 1;
    fail(`${tab.name}: ${file} shows no draft, and the disk has ${JSON.stringify(disk[file])}, not ${tab.name}'s last edit ${JSON.stringify(edit.text)}`);
  }
  for (const file of EDITED) {
    if (VIEWER_LINE.test(disk[file] ?? '')) fail(`${file}: the view-only person's edit ${JSON.stringify(disk[file])} reached the disk`);
  }
}

// The hub's own account of its runtime events, asked straight (no proxy,
// no faults) as a view-only peer with no history: the hub answers with a
// snapshot, which carries its newest (up to 1000) buffered events. null
// while the hub is down.
function hubEvents(observer) {
  return observer.evaluate(({ url, token }) => new Promise((resolve) => {
    const socket = new WebSocket(url, ['room.v1', `room.token.${token}`]);
    const events = [];
    const done = (value) => { clearTimeout(timer); socket.onclose = null; socket.close(); resolve(value); };
    const timer = setTimeout(() => done(null), 5000);
    socket.onopen = () => socket.send(JSON.stringify({
      type: 'hello', lastSeenRev: null, projectId: null, projectRev: null, peer: { name: 'soak observer', color: '#000000' },
    }));
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === 'runtime-event') events.push({ rev: frame.rev, n: frame.data.n });
      if (frame.type === 'synced') done(events.reverse());
    };
    socket.onclose = () => done(null);
  }), { url: config.directWs, token: config.readOnlyToken });
}

function faultRunners(tabs) {
  const tab = (name) => tabs.find((t) => t.name === name);
  return {
    blackhole: async ({ ms }) => { await k.kitPost('/proxy/mode/blackhole'); await k.sleep(ms); },
    wifiDrop: async ({ ms }) => { await k.kitPost('/proxy/mode/wifi-drop'); await k.sleep(ms); },
    reset: async () => { await k.kitPost('/proxy/reset'); },
    refuse: async ({ ms }) => { await k.kitPost('/proxy/mode/refuse'); await k.kitPost('/proxy/reset'); await k.sleep(ms); },
    delay: async ({ delayMs, ms }) => { await k.kitPost(`/proxy/socket-delay/${delayMs}`); await k.sleep(ms); },
    hubKill: async ({ ms }) => { await k.kitPost('/hub/stop'); await k.sleep(ms); await k.kitPost('/hub/start'); },
    newGeneration: async ({ text }) => {
      await k.kitPost('/hub/stop');
      await k.kit(`/file/${OUTSIDE}`, 'PUT', text);
      await k.kitPost('/hub/start');
    },
    folderWrite: async ({ text }) => { await k.kit(`/file/${OUTSIDE}`, 'PUT', text); },
    // A reload or reopen ends when the page's room is on screen again.
    reload: ({ tab: name }) => exclusive(tab(name), async () => {
      await tab(name).page.reload();
      await tab(name).page.waitForSelector('.room-status');
    }),
    reopen: ({ tab: name }) => exclusive(tab(name), async () => {
      const t = tab(name);
      await t.page.close();
      await attach(t, await t.context.newPage());
      await t.page.goto(link(t.token));
      await t.page.waitForSelector('.room-status');
    }),
    // Playwright's offline switch is CDP's Network.emulateNetworkConditions.
    offline: async ({ tab: name, ms }) => {
      const t = tab(name);
      await t.context.setOffline(true);
      await k.sleep(ms);
      await t.context.setOffline(false);
    },
    schemaUpgrade: async ({ tab: name }) => {
      const t = tab(name);
      const page = await t.context.newPage();
      try {
        // Any page of the room's origin: the database is the origin's.
        await page.goto(config.proxyHealth);
        await k.upgradeSchema(page, config.cacheDatabase);
        t.upgraded = true;
      } finally {
        await page.close();
      }
    },
  };
}

async function heal(tabs) {
  await k.kitPost('/proxy/mode/pass');
  await k.kitPost('/proxy/socket-delay/0');
  if (!(await k.kitJson('/stats')).hubRunning) await k.kitPost('/hub/start');
  for (const tab of tabs) await tab.context.setOffline(false);
}

async function main() {
  browser = await chromium.launch(launchOptions());
  config = await k.kitJson('/config');
  for (const file of [...EDITED, OUTSIDE]) await k.kit(`/file/${file}`, 'PUT', 'start\n');
  const filler = 'filler line, there to be more than a page prefetches\n'.repeat(FILLER_BYTES / 50).slice(0, FILLER_BYTES);
  for (let i = 0; i < FILLER_FILES; i++) await k.kit(`/file/0-filler/f${String(i).padStart(2, '0')}.txt`, 'PUT', filler);
  const tabs = [];
  for (const name of TABS) tabs.push(await openTab(name, name === 'v' ? config.readOnlyToken : config.editToken));
  const byName = Object.fromEntries(tabs.map((t) => [t.name, t]));
  const editors = EDITORS.map((n) => byName[n]);
  const observer = await (await browser.newContext()).newPage();
  console.log(`soak: ${MINUTES} min, seed ${SEED}`);

  const endAt = Date.now() + MINUTES * 60_000;
  // The people: a move every 1–4 s while the faults run, whatever the
  // network is doing, and the invariants checked on that tab after it.
  let running = true;
  const people = (async () => {
    for (const planned of moves(SEED)) {
      if (!running) break;
      const tab = byName[planned.tab];
      try {
        await exclusive(tab, async () => {
          await settleConflicts(tab);
          await move(tab, planned);
          await check(tab);
        });
        await sampleHub();
      } catch (error) {
        fail(`${tab.name}: ${error.message}`);
      }
      await k.sleep(planned.pauseMs);
    }
  })();
  const runners = faultRunners(tabs);
  const schedule = [];
  let silentSince = -Infinity;
  for (const fault of faultSchedule(SEED, MINUTES)) {
    stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1;
    trace(`fault ${fault.kind}${fault.tab ? ` ${fault.tab}` : ''}${fault.ms ? ` ${fault.ms} ms` : ''}`);
    schedule.push(fault.tab ? `${fault.kind}(${fault.tab})` : fault.kind);
    if (SILENT_FAULTS.includes(fault.kind)) silentSince = Date.now();
    try {
      await runners[fault.kind](fault);
    } catch (error) {
      fail(`fault ${fault.kind}: ${error.message}`);
    }
    await heal(tabs);
    trace(`healed after ${fault.kind}`);
    // The last fault: recovery is measured from its end.
    if (Date.now() + fault.pauseMs >= endAt) break;
    await k.sleep(fault.pauseMs);
  }

  // After the last fault: every tab connected within the reconnect step in
  // force plus 1 s, the people still at work. A flow a blackhole or a
  // Wi-Fi drop left behind looks alive until the dead-connection timer
  // fires, 20 s after the silence began: that long is allowed first, and
  // counts in the recovery figure.
  const healedAt = Date.now();
  const deadFlowsGoneAt = silentSince + DEAD_AFTER_MS + 2000;
  if (deadFlowsGoneAt > Date.now()) await k.sleep(deadFlowsGoneAt - Date.now());
  const from = Date.now();
  const bounds = [];
  for (const tab of tabs) {
    const shown = await k.reconnecting(tab.page).catch(() => null);
    bounds.push((shown?.stepMs ?? 0) + 1000);
  }
  await Promise.all(tabs.map(async (tab, i) => {
    try {
      await k.status(tab.page, 'connected', 60000);
    } catch {
      fail(`${tab.name}: not connected 60 s after the last fault`);
      return;
    }
    const took = Date.now() - from;
    stats.longestRecoveryMs = Math.max(stats.longestRecoveryMs, Date.now() - healedAt);
    if (took > bounds[i]) fail(`${tab.name}: connected ${took} ms after the last fault (bound ${bounds[i]} ms)`);
  }));
  running = false;
  await people;
  await heal(tabs);
  for (const tab of tabs) await check(tab);

  // Every edit saved: conflicts settled as their person would, then every
  // draft saved once more and landed.
  for (const tab of editors) {
    await settleConflicts(tab);
    const { files } = await view(tab);
    for (const file of Object.keys(tab.lastEdit)) {
      if (files[file] === 'draft') {
        await k.openFile(tab.page, file);
        await tab.page.focus('textarea.code');
        await tab.page.keyboard.press('Control+s');
      }
    }
  }
  // The view-only person's edits, each refused by the hub and kept in the
  // tab, which says so; then discarded.
  const viewer = byName.v;
  await settleConflicts(viewer);
  for (const [file, edit] of Object.entries(viewer.lastEdit)) {
    await k.openFile(viewer.page, file);
    try {
      await viewer.page.waitForSelector('.room-editor .draft-state[data-draft="read-only"]', { timeout: 10000 });
      assert.equal(await k.editorText(viewer.page), edit.text);
    } catch (error) {
      fail(`v: ${file} is not shown refused as view-only with its text: ${error.message.split('\n')[0]}`);
    }
    await viewer.page.click('.room-editor button:text-is("Discard")');
    delete viewer.lastEdit[file];
  }
  const idle = async () => {
    for (const tab of tabs) if (Object.values((await view(tab)).files).some((m) => m !== null)) return false;
    return true;
  };
  await k.until(idle, 'every draft saved', 30000).catch(() => fail('drafts still unsaved 30 s after the last fault'));

  // The disk has each person's last edit of their own file, and the shared
  // file holds the last edit of one of them; every tab shows the disk.
  const disk = {};
  for (const file of [...EDITED, OUTSIDE]) disk[file] = await k.kitFile(file);
  for (const tab of editors) {
    for (const file of OWN[tab.name]) {
      if (tab.lastEdit[file] !== undefined && disk[file] !== tab.lastEdit[file].text) {
        stats.lost += 1;
        fail(`${file}: the disk has ${JSON.stringify(disk[file])}; ${tab.name}'s last edit was ${JSON.stringify(tab.lastEdit[file].text)}`);
      }
    }
  }
  const lastShared = editors.map((t) => t.lastEdit[SHARED]?.text).filter(Boolean);
  if (lastShared.length && !lastShared.includes(disk[SHARED])) {
    stats.lost += 1;
    fail(`${SHARED}: the disk has ${JSON.stringify(disk[SHARED])}, neither last edit (${lastShared.map((t) => JSON.stringify(t)).join(', ')})`);
  }
  for (const tab of tabs) {
    for (const [file, text] of Object.entries(disk)) {
      await k.openFile(tab.page, file);
      await k.until(async () => (await k.editorText(tab.page)) === text, `${tab.name} shows ${file} as on disk`, 10000)
        .catch(() => fail(`${tab.name}: ${file} differs from the disk`));
    }
  }
  // Every tab's history is the hub's: its newest events, the same revs
  // and pulses, none missing. The hub moves on meanwhile, so the tab is
  // read first and must be a run of the hub's list read after it.
  for (const tab of tabs) {
    const agrees = async () => {
      const shown = (await view(tab)).events;
      const hub = await hubEvents(observer);
      if (!hub || shown.length === 0) return false;
      const start = hub.findIndex((e) => e.rev === shown[0].rev);
      return start >= 0 && shown.every((e, i) => hub[start + i]?.rev === e.rev && hub[start + i].n === e.n);
    };
    await k.until(agrees, `${tab.name}'s events are the hub's`, 10000, 500)
      .catch(() => fail(`${tab.name}: its event history is not the hub's newest events`));
  }
  // A person whose database a newer build upgraded works from memory, and
  // the page says so.
  for (const tab of tabs.filter((t) => t.upgraded)) {
    if (!(await tab.page.$('[data-banner="storage-fallback"]'))) fail(`${tab.name}: no notice that the tab works from memory after the schema upgrade`);
  }
  console.log(`soak: faults in order: ${schedule.join(' ')}`);
  await sampleHub();
  if (stats.hubRssPeakKiB > HUB_RSS_BOUND_KIB) fail(`hub RSS peaked at ${stats.hubRssPeakKiB} KiB, over ${HUB_RSS_BOUND_KIB}`);
  console.log(JSON.stringify({ soak: { minutes: MINUTES, seed: SEED, ...stats, hubRssBoundKiB: HUB_RSS_BOUND_KIB, failures: failures.length } }));
  await browser.close();
  assert.deepEqual(failures, [], `seed ${SEED}`);
}

main().catch(async (error) => {
  console.error(`soak: seed ${SEED}: ${error.stack || error}`);
  await browser?.close();
  process.exit(1);
});
