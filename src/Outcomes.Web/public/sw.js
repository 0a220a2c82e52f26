// The app shell, cached so that the check-in opens without a connection. Submissions are not this worker's
// business: the page queues them in IndexedDB and sends them when it is online again.
// Install: the page and every asset it names are cached under this build's name; older caches are dropped.
const SHELL = "/app/";
const CACHE = "outcomes-shell";

async function cacheShell() {
  const cache = await caches.open(CACHE);
  const page = await fetch(SHELL, { cache: "no-store" });
  if (!page.ok) throw new Error("shell " + page.status);
  const html = await page.clone().text();
  const assets = [...html.matchAll(/(?:src|href)="(\/app\/[^"]+)"/g)].map((m) => m[1]);
  await cache.put(SHELL, page);
  await cache.addAll([...new Set(assets)]);
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) return;
  // The run-time configuration is the service's to change: always from the network.
  if (url.pathname === "/app/config.json") return;
  // Pages: the network when it answers (a new build), else the cached shell. Assets: the cache, else the network.
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request)
        .then(async (response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(SHELL, copy));
            return response;
          }
          return (await caches.match(SHELL)) || response;
        })
        .catch(async () => (await caches.match(SHELL)) || Response.error()),
    );
    return;
  }
  event.respondWith(
    caches.match(request).then(
      (cached) =>
        cached ||
        fetch(request).then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        }),
    ),
  );
});
