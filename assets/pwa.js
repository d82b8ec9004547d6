/* GovSocial in the browser: registers the service worker, subscribes to Web Push, offers the install prompt, and keeps the last inbox page for offline reading. */
(function () {
  'use strict';
  if (window.govsocialPush) return; // already loaded on this page

  const SNAPSHOT_CACHE = 'govsocial-snapshot';
  const SNAPSHOT_KEY = '/__govsocial/inbox-snapshot';
  const hasSW = 'serviceWorker' in navigator;

  // A direct call, not a 'load' listener: this script runs after hydration, when 'load' has already fired.
  const registration = hasSW
    ? navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => { console.warn('GovSocial: service worker not registered', e); return null; })
    : Promise.resolve(null);

  let installPrompt = null;
  window.addEventListener('beforeinstallprompt', (event) => { event.preventDefault(); installPrompt = event; });
  window.addEventListener('appinstalled', () => { installPrompt = null; });

  const ua = navigator.userAgent || '';
  const isIOS = /iPad|iPhone|iPod/.test(ua) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
  const standalone = () => window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
  const pushSupported = () => hasSW && 'PushManager' in window && 'Notification' in window;

  function keyBytes(base64url) {
    const b64 = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  function sameKey(buffer, base64url) {
    const a = new Uint8Array(buffer);
    const b = keyBytes(base64url);
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  async function subscribe(vapidPublicKey) {
    if (!pushSupported()) return { ok: false, error: isIOS && !standalone() ? 'ios-home-screen' : 'unsupported' };
    // Ask before any other await: Safari shows the prompt only while the tap still counts as a user gesture.
    let permission = Notification.permission;
    if (permission === 'default') permission = await Notification.requestPermission();
    if (permission === 'denied') return { ok: false, error: 'denied' };
    if (permission !== 'granted') return { ok: false, error: 'dismissed' };
    try {
      const reg = (await registration) || (await navigator.serviceWorker.register('/sw.js', { scope: '/' }));
      await navigator.serviceWorker.ready;
      let sub = await reg.pushManager.getSubscription();
      // A subscription made for another server key (keys rotated) cannot receive our pushes.
      if (sub && sub.options && sub.options.applicationServerKey && !sameKey(sub.options.applicationServerKey, vapidPublicKey)) {
        await sub.unsubscribe();
        sub = null;
      }
      if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidPublicKey) });
      return { ok: true, subscription: sub.toJSON() };
    } catch (e) {
      console.warn('GovSocial: push subscription failed', e);
      return { ok: false, error: 'failed' };
    }
  }

  function info() {
    return {
      supported: pushSupported(),
      permission: 'Notification' in window ? Notification.permission : 'unsupported',
      standalone: standalone(),
      ios: isIOS,
      installable: installPrompt !== null,
    };
  }

  async function install() {
    if (!installPrompt) return 'unavailable';
    const prompt = installPrompt;
    installPrompt = null; // a prompt can be shown once
    prompt.prompt();
    const choice = await prompt.userChoice;
    return choice.outcome;
  }

  window.govsocialPush = { subscribe, info, install };

  // ---- the inbox snapshot the offline page shows: plain text of the visible message list, never HTML
  function snapshotInbox() {
    if (!('caches' in window)) return;
    if (location.pathname.startsWith('/login')) {
      // Signed out: message text must not outlive the session on a shared device.
      caches.delete(SNAPSHOT_CACHE);
      return;
    }
    if (!location.pathname.startsWith('/inbox')) return;
    const items = Array.from(document.querySelectorAll('main ul > li'))
      .filter((li) => !li.closest('nav'))
      .slice(0, 50)
      .map((li) => (li.innerText || '').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim().slice(0, 600))
      .filter(Boolean);
    if (!items.length) return;
    const body = JSON.stringify({ at: new Date().toISOString(), url: location.pathname + location.search, items });
    caches.open(SNAPSHOT_CACHE)
      .then((cache) => cache.put(SNAPSHOT_KEY, new Response(body, { headers: { 'Content-Type': 'application/json' } })))
      .catch(() => {});
  }

  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(snapshotInbox, 1000); };
  const watch = () => {
    new MutationObserver(later).observe(document.body, { childList: true, subtree: true, characterData: true });
    later();
  };
  // Loaded from <head> the body does not exist yet; injected after hydration it does.
  if (document.body) watch(); else document.addEventListener('DOMContentLoaded', watch);
})();
