/* GovSocial service worker: the offline page (with the last inbox snapshot), push notifications, and opening the right screen on a tap. */
'use strict';

const SHELL_CACHE = 'govsocial-shell-v1';
const OFFLINE_URL = '/offline.html';
const PRECACHE = [OFFLINE_URL, '/icons/icon-192.png', '/manifest.webmanifest'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('govsocial-shell-') && key !== SHELL_CACHE) await caches.delete(key);
    }
    // Control the open page at once, so its very first offline moment already gets the fallback.
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // Only page loads fall back; data always comes live over the websocket, never from a stale cache.
  if (request.method !== 'GET' || request.mode !== 'navigate') return;
  event.respondWith(fetch(request).catch(async () => (await caches.match(OFFLINE_URL)) || Response.error()));
});

function sameOriginUrl(raw) {
  const fallback = new URL('/alerts', self.location.origin).href;
  try {
    const url = new URL(raw || '/alerts', self.location.origin);
    return url.origin === self.location.origin ? url.href : fallback;
  } catch (e) {
    return fallback;
  }
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : '' };
  }
  const options = {
    body: data.body || '',
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    dir: 'auto',
    data: { url: sameOriginUrl(data.url) },
    // A critical alert stays on screen until someone deals with it.
    requireInteraction: data.severity === 'critical',
  };
  if (data.tag) {
    options.tag = data.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(data.title || 'GovSocial', options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).origin !== self.location.origin) continue;
      await client.focus();
      try {
        await client.navigate(url);
        return;
      } catch (e) {
        break; // an uncontrolled window cannot be navigated from here: open a new one
      }
    }
    await self.clients.openWindow(url);
  })());
});
