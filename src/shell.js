// The page's side of the offline shell (`room-hub --write-shell` writes the
// worker into a build and names it in the page's head): registers the
// worker where the browser allows service workers (https, localhost; on a
// plain-http LAN address there are none and everything else works the
// same), and when a newer build's worker takes over while this page runs
// its own build, offers a reload in a bar above the app.
//
// Plain JavaScript beside the wasm (a wasm-bindgen snippet): it only wires
// browser events, and so adds nothing to the wasm.
let started = false;

export function startOfflineShell(buildMeta, workerMeta) {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;
  const build = meta(buildMeta);
  const worker = meta(workerMeta);
  const workers = navigator.serviceWorker;
  // No shell in this build (a development server, or an app without the
  // hook), or none possible here; once per page.
  if (started || !build || !worker || !window.isSecureContext || !workers) return;
  started = true;
  // Besides the check the browser makes on each navigation.
  const CHECK_EVERY_MS = 5 * 60 * 1000;
  // A live region from the start whose text changes (WCAG ARIA22), a bar
  // above the app; it covers nothing.
  const region = document.createElement('div');
  region.className = 'room-update';
  region.setAttribute('role', 'status');
  region.setAttribute('aria-atomic', 'true');
  document.body.prepend(region);
  const offerReload = () => {
    const reload = document.createElement('button');
    reload.type = 'button';
    reload.textContent = 'Reload';
    reload.addEventListener('click', () => location.reload());
    region.replaceChildren('A new version is available — ', reload);
  };
  workers.addEventListener('message', (event) => {
    if (event.data?.type === 'room-shell-activated' && event.data.build !== build) offerReload();
  });
  workers.startMessages();
  // The worker serves the cached page at once, so a newer worker may have
  // taken over before this page listened: ask the one in control which
  // build it holds, now and whenever it changes.
  const ask = () => workers.controller?.postMessage({ type: 'room-shell-build' });
  ask();
  workers.addEventListener('controllerchange', ask);
  workers.register(worker).then(
    (registration) => {
      const check = () => {
        if (document.visibilityState === 'visible') registration.update().catch(() => {});
      };
      setInterval(check, CHECK_EVERY_MS);
      addEventListener('online', check);
      document.addEventListener('visibilitychange', check);
    },
    (error) => console.warn(`the offline shell is not installed: ${error.message}`),
  );
}
