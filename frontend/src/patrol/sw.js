// The patrol app's service worker, served at /patrol/sw.js with scope /patrol/ (frontend.views.patrol_sw).
// __VERSION__ and __ASSETS__ are filled in by build.mjs: a new build is a new shell cache; the district's data
// (layers, boards, focus, who I am) lives in a cache of its own that survives new versions.
/* global __VERSION__, __ASSETS__ */
const VERSION = __VERSION__;
const SHELL = `patrol-shell-${VERSION}`;
const DATA = "patrol-data-v1";
const SHELL_URL = "/patrol/";
const NETWORK_WAIT_MS = 6000; // patchy signal: past this, answer from the cache when it can

// API answers the app needs offline: the district's layers, boards, focus, the user and colleagues.
const DATA_PATHS = [
  /^\/api\/v1\/(reaches|waterbodies|routes|districts|boards|focus|me)\/$/,
  /^\/api\/v1\/patrols\/(colleagues|tracks)\/$/,
  /^\/api\/v1\/patrols\/\d+\/$/,
  /^\/patrol\/(jsi18n\/|manifest\.webmanifest)$/,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      // `reload`: past the HTTP cache, so that the new version's files are the ones kept.
      await cache.addAll(__ASSETS__.map((url) => new Request(url, { cache: "reload" })));
      const shell = await fetch(SHELL_URL, { cache: "reload", credentials: "same-origin" });
      if (shell.ok && !shell.redirected) await cache.put(SHELL_URL, shell);
      // The first version takes over at once; a later one waits for the page's word (it asks the user).
      if (!self.registration.active) await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("patrol-shell-") && name !== SHELL) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skipWaiting") self.skipWaiting();
  // A first visit loads its data before this worker controls the page: the page names what it
  // loaded, and it is fetched again into the cache. The answer says when the app works offline.
  if (event.data?.type === "cache") {
    const urls = event.data.urls.filter((url) => DATA_PATHS.some((p) => p.test(new URL(url, self.location).pathname)));
    event.waitUntil(
      (async () => {
        const cache = await caches.open(DATA);
        const failed = [];
        for (const url of urls) {
          try {
            const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
            if (response.ok && !response.redirected) await cache.put(url, response);
            else failed.push(url);
          } catch {
            failed.push(url);
          }
        }
        event.source?.postMessage({ type: "cached", count: urls.length - failed.length, failed });
      })(),
    );
  }
});

/** Fetch, giving up after NETWORK_WAIT_MS when a cached answer is there to fall back on. */
function fetchWithin(request, hasFallback) {
  const fetching = fetch(request);
  if (!hasFallback) return fetching;
  return Promise.race([
    fetching,
    new Promise((_, reject) => setTimeout(() => reject(new Error("slow network")), NETWORK_WAIT_MS)),
  ]);
}

/** Network first (fresh data and a fresh page after a deployment), the cache when the network fails. */
async function networkFirst(request, cacheName, key = request) {
  const cache = await caches.open(cacheName);
  // DRF answers vary on Accept and Cookie: a copy kept by the "cache" message matches all the same.
  const cached = await cache.match(key, { ignoreVary: true });
  try {
    const response = await fetchWithin(request, Boolean(cached));
    if (response.ok && !response.redirected) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL)).put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // writes go straight to the network (the queue retries them)
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SHELL_URL) {
    event.respondWith(networkFirst(request, SHELL, SHELL_URL));
  } else if (url.pathname.startsWith("/static/frontend/build/")) {
    event.respondWith(cacheFirst(request));
  } else if (DATA_PATHS.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(networkFirst(request, DATA));
  }
});
