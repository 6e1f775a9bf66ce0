// The room page's offline shell: a service worker in plain JavaScript, so
// it is ready for the first fetch of a page load (a wasm worker would miss
// events while it loads).
//
// `room-hub --write-shell`, a trunk post_build hook, writes this file into
// the build with two constants above this text: `BUILD`, an id of the
// build, and `SHELL`, the URLs of its files (content-hashed names, so a URL
// never changes what it holds), and names both in the page's
// `<meta name="room-shell-build">` and `<meta name="room-shell-worker">`.
// room-client registers it where the browser allows (https, localhost) and
// offers a reload when a newer build takes over (src/shell.js).
//
// What it handles, and only that:
// - a navigation to the page (`/`, `/index.html`, `/rooms/{id}/`): the
//   cached page at once, so a reload costs no round trip before the page
//   starts; the browser looks for a newer worker on every navigation (a
//   new build brings its own page), and the page offers to reload into it.
//   Without a cached page (installing): the network, then the cache when
//   the network fails or says nothing for NAVIGATION_TIMEOUT_MS (a dead
//   Wi-Fi link refuses nothing, it is silent);
// - a GET of one of the build's files: cache first.
// Everything else goes to the network untouched: the WebSocket never comes
// here, and neither the events POST, the snapshot link and download, nor
// the hub's other routes are answered from a cache.

/* global BUILD, SHELL */
'use strict';

const CACHE_PREFIX = 'room-shell-';
const CACHE = `${CACHE_PREFIX}${BUILD}`;
const NAVIGATION_TIMEOUT_MS = 3000;
/** Where the page is fetched from at install, and its key in the cache. */
const PAGE = new URL('index.html', self.registration.scope).href;
const SCOPE_PATH = new URL(self.registration.scope).pathname;
/** The page's routes: the hub's `/rooms/{id}/` (protocol `PAGE_ROUTE`). */
const PAGE_PATHS = /^(?:|index\.html|rooms\/[^/]+\/)$/;
const FILES = new Set(SHELL.map((url) => new URL(url, self.registration.scope).href));

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The page revalidated (an older build's page would point at files
      // this build does not have); the files as the HTTP cache holds them,
      // if it does: a content-hashed name never changes what it holds, so
      // a first visit does not download them twice.
      await cache.addAll([new Request(PAGE, { cache: 'no-cache' }), ...FILES]);
      // A new build takes over at once; pages running the old one keep
      // running it and are told (see `activate`).
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
      for (const client of await self.clients.matchAll({ type: 'window' })) {
        client.postMessage({ type: 'room-shell-activated', build: BUILD });
      }
    })(),
  );
});

// A page asks which build this worker holds (it may have taken over
// before the page listened for `activate`'s message).
self.addEventListener('message', (event) => {
  if (event.data?.type === 'room-shell-build') event.source?.postMessage({ type: 'room-shell-activated', build: BUILD });
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && isPage(url)) {
    event.respondWith(cachedPageFirst(event));
  } else if (FILES.has(url.href)) {
    event.respondWith(cacheFirst(request));
  }
});

function isPage(url) {
  return url.pathname.startsWith(SCOPE_PATH) && PAGE_PATHS.test(url.pathname.slice(SCOPE_PATH.length));
}

async function cachedPageFirst(event) {
  const cached = await caches.match(PAGE, { cacheName: CACHE });
  if (!cached) return networkFirst(event.request);
  // Revalidated in the background: a newer worker, if the hub has one,
  // installs with its page and tells the open pages (see `activate`).
  event.waitUntil(self.registration.update().catch(() => {}));
  return cached;
}

async function networkFirst(request) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), NAVIGATION_TIMEOUT_MS);
  try {
    // Any answer is the network's word, a 404 for an unknown room included.
    return await fetch(request, { signal: abort.signal });
  } catch (offline) {
    const cached = await caches.match(PAGE, { cacheName: CACHE });
    if (cached) return cached;
    throw offline;
  } finally {
    clearTimeout(timer);
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request.url, { cacheName: CACHE });
  return cached ?? fetch(request);
}
