// The fault soak (first version): real Chromium tabs in one room, a
// seeded schedule of faults through room-testkit (proxy faults, hub
// kill -9 and restarts, a new generation, writes to the folder, reloads,
// tabs closed and reopened, the browser offline), scripted people typing
// and saving meanwhile, and the promises checked as invariants while it
// runs and at the end. Run by scripts/soak.sh MINUTES [SEED]; the same
// seed gives the same schedule of faults and edits (their timing still
// depends on the machine).
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { launchOptions } = require('./browser.cjs');
const k = require('./kit.cjs');

const MINUTES = Number(process.env.SOAK_MINUTES || 2);
const SEED = Number(process.env.SOAK_SEED || Math.floor(Math.random() * 2 ** 31));

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
// Two streams from the seed, one for the faults and one for the people:
// the two loops run side by side, so sharing one stream would make each
// take draws in an order that depends on the machine's timing. Each
// sequence (faults with their durations, edits with their files) is then
// the same for a seed wherever it runs; only how they interleave is not.
const faultRandom = generator(SEED);
const peopleRandom = generator(SEED ^ 0x9e3779b9);
const between = (random, low, high) => low + Math.floor(random() * (high - low + 1));
const pick = (random, items) => items[Math.floor(random() * items.length)];

// Files: each editor owns one, both edit the shared one; the folder's own
// writes go to a file nobody edits in the page.
const OWN = { a: 'soak/a.txt', b: 'soak/b.txt' };
const SHARED = 'soak/shared.txt';
const OUTSIDE = 'soak/outside.txt';
// After the last fault a tab that knows it is disconnected is back within
// the reconnect step in force plus 1 s. One that still shows connected may
// hold a flow the network lost, which only the 20 s dead-connection timer
// notices: that, the first step and 1 s.
const DEAD_AFTER_MS = 20000;
const SILENT_FAULTS = ['blackhole', 'wifiDrop'];
// The hub's memory: its replay log is capped at 64 MiB and each peer's
// queue at 16 MiB (docs/PROTOCOL.md); three peers and 16 MiB for the rest.
const HUB_RSS_BOUND_KIB = (64 + 3 * 16 + 16) * 1024;
let lastFault = null;
// The faults in the order they ran, printed for a failing seed.
const schedule = [];

const failures = [];
const stats = { faults: {}, edits: 0, saves: 0, lost: 0, duplicateEvents: 0, longestRecoveryMs: 0, hubRssPeakKiB: 0 };

async function sampleHub() {
  const { hubRssKiB } = await k.kitJson('/stats');
  if (hubRssKiB) stats.hubRssPeakKiB = Math.max(stats.hubRssPeakKiB, hubRssKiB);
}
function fail(what) {
  failures.push(what);
  console.error(`soak: ${what}`);
}

let browser;
let config;
const link = (token) => `${config.proxyHttp}/rooms/${config.roomId}/?token=${token}`;

// A tab: its context (a person), page, token and what its person did.
async function openTab(name, token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const tab = { name, token, context, page: null, lastEdit: {}, seq: 0 };
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

// The file's marker in a tab's list: 'draft', 'conflict', 'refused' or null.
function marker(tab, file) {
  return tab.page.evaluate((path) => {
    const button = [...document.querySelectorAll('.room-files .file')]
      .find((b) => b.querySelector('.path')?.textContent === path);
    const m = button?.querySelector('.marker');
    return m ? [...m.classList].find((c) => c !== 'marker') : null;
  }, file);
}

const connected = (tab) => tab.page.$('.room-status[data-status="connected"]').then(Boolean);

// One person's move: type a new line into a file, and usually save it.
async function edit(tab) {
  const file = peopleRandom() < 0.7 ? OWN[tab.name] : SHARED;
  const text = `${tab.name} ${++tab.seq}\n`;
  const save = peopleRandom() < 0.85;
  if (save) {
    await k.typeAndSave(tab.page, file, text);
  } else {
    await k.openFile(tab.page, file);
    await tab.page.fill('textarea.code', text);
  }
  tab.lastEdit[file] = text;
  stats.edits += 1;
  if (save) stats.saves += 1;
}

// Settles a conflict the way a person keeping their own text would.
async function settleConflicts(tab) {
  for (const file of [OWN[tab.name], SHARED]) {
    if ((await marker(tab, file)) !== 'conflict') continue;
    await k.openFile(tab.page, file);
    const save = await tab.page.$('.conflict button.primary');
    if (save) await save.click();
  }
}

// While it runs: a file this tab owns and shows saved is on disk as the
// tab last wrote it (nobody else writes it), and no event is shown twice.
async function check(tab) {
  // The page publishes its state once per display frame: after two
  // frames, what the person just did is on screen (a fresh draft's marker).
  await tab.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const file = OWN[tab.name];
  const last = tab.lastEdit[file];
  if (last !== undefined && (await marker(tab, file)) === null && (await connected(tab))) {
    const disk = await k.kitFile(file);
    // The marker can clear between the two reads only by the save landing.
    if (disk !== last && (await marker(tab, file)) === null && tab.lastEdit[file] === last) {
      fail(`${tab.name}: ${file} shows saved, but the disk has ${JSON.stringify(disk)}, not ${JSON.stringify(last)}`);
    }
  }
  const revs = await k.eventRevs(tab.page);
  const unique = new Set(revs);
  if (unique.size !== revs.length) {
    stats.duplicateEvents += revs.length - unique.size;
    fail(`${tab.name}: an event shown twice: ${revs.join(',')}`);
  }
  if (!revs.every((rev, i) => i === 0 || rev < revs[i - 1])) fail(`${tab.name}: events out of order`);
}

// The faults, each with how long it lasts.
const FAULTS = {
  blackhole: async () => { await k.kitPost('/proxy/mode/blackhole'); await k.sleep(between(faultRandom, 1, 40) * 1000); },
  wifiDrop: async () => { await k.kitPost('/proxy/mode/wifi-drop'); await k.sleep(between(faultRandom, 1, 40) * 1000); },
  reset: async () => { await k.kitPost('/proxy/reset'); },
  refuse: async () => { await k.kitPost('/proxy/mode/refuse'); await k.kitPost('/proxy/reset'); await k.sleep(between(faultRandom, 1, 10) * 1000); },
  delay: async () => { await k.kitPost(`/proxy/socket-delay/${between(faultRandom, 100, 2000)}`); await k.sleep(between(faultRandom, 5, 20) * 1000); },
  hubKill: async () => { await k.kitPost('/hub/stop'); await k.sleep(between(faultRandom, 0, 5) * 1000); await k.kitPost('/hub/start'); },
  newGeneration: async () => {
    await k.kitPost('/hub/stop');
    await k.kit(`/file/${OUTSIDE}`, 'PUT', `changed while the hub was down ${between(faultRandom, 0, 1e6)}\n`);
    await k.kitPost('/hub/start');
  },
  folderWrite: async () => { await k.kit(`/file/${OUTSIDE}`, 'PUT', `written outside ${between(faultRandom, 0, 1e6)}\n`); },
  reload: async (tabs) => { await pick(faultRandom, tabs).page.reload(); },
  reopen: async (tabs) => {
    const tab = pick(faultRandom, tabs);
    await tab.page.close();
    await attach(tab, await tab.context.newPage());
    await tab.page.goto(link(tab.token));
  },
  offline: async (tabs) => {
    const tab = pick(faultRandom, tabs);
    await tab.context.setOffline(true);
    await k.sleep(between(faultRandom, 1, 20) * 1000);
    await tab.context.setOffline(false);
  },
};

async function heal(tabs) {
  await k.kitPost('/proxy/mode/pass');
  await k.kitPost('/proxy/socket-delay/0');
  if (!(await k.kitJson('/stats')).hubRunning) await k.kitPost('/hub/start');
  for (const tab of tabs) await tab.context.setOffline(false);
}

async function main() {
  browser = await chromium.launch(launchOptions());
  config = await k.kitJson('/config');
  for (const file of [OWN.a, OWN.b, SHARED, OUTSIDE]) await k.kit(`/file/${file}`, 'PUT', 'start\n');
  const a = await openTab('a', config.editToken);
  const b = await openTab('b', config.editToken);
  const viewer = await openTab('v', config.readOnlyToken);
  const editors = [a, b];
  const tabs = [a, b, viewer];
  console.log(`soak: ${MINUTES} min, seed ${SEED}`);

  const endAt = Date.now() + MINUTES * 60_000;
  // The people: edits every 1–4 s while the faults run, whatever the network.
  let running = true;
  const people = (async () => {
    while (running) {
      const tab = pick(peopleRandom, editors);
      try {
        await settleConflicts(tab);
        await edit(tab);
        await check(tab);
        await sampleHub();
      } catch (error) {
        // A page reloading or reopened under the person: try again later.
        if (!/closed|navigat|Target|detached|context/i.test(error.message)) fail(`${tab.name}: ${error.message}`);
      }
      await k.sleep(between(peopleRandom, 1000, 4000));
    }
  })();
  while (Date.now() < endAt) {
    const kind = pick(faultRandom, Object.keys(FAULTS));
    stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
    schedule.push(kind);
    lastFault = kind;
    await FAULTS[kind](tabs);
    await heal(tabs);
    await k.sleep(between(faultRandom, 1000, 8000));
  }
  running = false;
  await people;

  // After the last fault: every tab connected within a step plus 1 s.
  await heal(tabs);
  const healedAt = Date.now();
  // A flow the network lost looks alive until the dead-connection timer
  // fires: give it that long, then every tab must be back within the step
  // in force plus 1 s.
  if (SILENT_FAULTS.includes(lastFault)) await k.sleep(DEAD_AFTER_MS + 2000);
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
  // Every edit saved: conflicts settled as their person would, then every
  // draft saved once more and landed.
  for (const tab of editors) {
    await settleConflicts(tab);
    for (const file of [OWN[tab.name], SHARED]) {
      if ((await marker(tab, file)) === 'draft') {
        await k.openFile(tab.page, file);
        await tab.page.focus('textarea.code');
        await tab.page.keyboard.press('Control+s');
      }
    }
  }
  const idle = async () => {
    for (const tab of editors) for (const file of [OWN[tab.name], SHARED]) if ((await marker(tab, file)) !== null) return false;
    return true;
  };
  await k.until(idle, 'every draft saved', 30000).catch(() => fail('drafts still unsaved 30 s after the last fault'));

  // The disk has each person's last edit of their own file, and the shared
  // file holds the last edit of one of them; every tab shows the disk.
  const disk = {};
  for (const file of [OWN.a, OWN.b, SHARED, OUTSIDE]) disk[file] = await k.kitFile(file);
  for (const tab of editors) {
    const file = OWN[tab.name];
    if (tab.lastEdit[file] !== undefined && disk[file] !== tab.lastEdit[file]) {
      stats.lost += 1;
      fail(`${file}: the disk has ${JSON.stringify(disk[file])}; ${tab.name}'s last edit was ${JSON.stringify(tab.lastEdit[file])}`);
    }
  }
  const lastShared = editors.map((t) => t.lastEdit[SHARED]).filter(Boolean);
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
    await check(tab);
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
