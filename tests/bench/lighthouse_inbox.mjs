// Lighthouse (mobile preset: a Moto G Power-sized screen, 4x CPU slowdown, slow 4G, simulated) on a page of a running
// GovSocial, signed in or not. Driven by tests/bench/bench_paint.py; runnable alone:
//   node lighthouse_inbox.mjs BASE_URL PATH [EMAIL PASSWORD]
// Prints one JSON object per run on stdout. Needs lighthouse (from npm) and Chromium (CHROME_PATH, /usr/bin/chromium).
//
// Signed in: sign in once in one tab the way a person does (GovSocial keeps the session token in localStorage), then
// run Lighthouse in a new tab. A new tab has an empty sessionStorage, so Reflex makes a new client (a new state token),
// exactly as a phone opening the app does; localStorage is kept (disableStorageReset) and the HTTP cache is cleared
// first, so every script is fetched again as on a first visit.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

// LH_MODULES: the node_modules folder lighthouse was installed into (outside the repo: .tools/lighthouse by default).
const modules = process.env.LH_MODULES;
const need = createRequire(modules + "/");
const lighthouse = (await import(pathToFileURL(need.resolve("lighthouse")))).default;
const puppeteer = (await import(pathToFileURL(need.resolve("puppeteer-core")))).default;

const [base, path, email, password] = process.argv.slice(2);
const chrome = process.env.CHROME_PATH || "/usr/bin/chromium";
const runs = Number(process.env.LH_RUNS || 3);

const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: "new",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  if (email) {
    const page = await browser.newPage();
    await page.setViewport({ width: 412, height: 823 });
    await page.goto(base + "/login", { waitUntil: "networkidle0" });
    await page.waitForSelector('input[name="email"]');
    await page.type('input[name="email"]', email);
    await page.type('input[name="password"]', password);
    await Promise.all([
      page.waitForFunction(() => location.pathname.startsWith("/inbox"), { timeout: 30000 }),
      page.click('button[type="submit"]'),
    ]);
    await page.waitForFunction(() => !!localStorage.getItem("gs_session"), { timeout: 10000 });
    await page.close();
  }
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage();
    const cdp = await page.createCDPSession();
    await cdp.send("Network.clearBrowserCache");
    await cdp.detach();
    const result = await lighthouse(base + path, {
      output: "json", logLevel: "error", disableStorageReset: true,
      onlyCategories: ["performance", "accessibility", "best-practices"],
    }, undefined, page);
    const lhr = result.lhr;
    if (process.env.LH_SAVE) (await import("node:fs")).writeFileSync(`${process.env.LH_SAVE}${path.replace(/[^a-z0-9]+/gi, "-")}${i}.json`, result.report);
    if (lhr.runtimeError) throw new Error(JSON.stringify(lhr.runtimeError));
    const a = lhr.audits;
    const num = (id) => (a[id] && typeof a[id].numericValue === "number" ? Math.round(a[id].numericValue) : null);
    const scripts = (a["network-requests"]?.details?.items || []).filter((r) => r.resourceType === "Script");
    const finalUrl = lhr.finalDisplayedUrl || lhr.finalUrl;
    process.stdout.write(JSON.stringify({
      url: base + path,
      final_path: new URL(finalUrl).pathname,
      lighthouse: lhr.lighthouseVersion,
      performance: Math.round(lhr.categories.performance.score * 100),
      accessibility: Math.round(lhr.categories.accessibility.score * 100),
      best_practices: Math.round(lhr.categories["best-practices"].score * 100),
      tbt_ms: num("total-blocking-time"),
      lcp_ms: num("largest-contentful-paint"),
      fcp_ms: num("first-contentful-paint"),
      si_ms: num("speed-index"),
      tti_ms: num("interactive"),
      cls: a["cumulative-layout-shift"]?.numericValue ?? null,
      main_thread_ms: num("mainthread-work-breakdown"),
      bootup_ms: num("bootup-time"),
      // Lighthouse's own CPU benchmark of this host (higher is faster; it warns below 1000): the mobile preset's 4x
      // CPU slowdown is applied to what this host measured, so the same page scores lower on a slower host.
      benchmark_index: lhr.environment?.benchmarkIndex != null ? Math.round(lhr.environment.benchmarkIndex) : null,
      scripts: scripts.length,
      script_kb: Math.round(scripts.reduce((s, r) => s + (r.transferSize || 0), 0) / 1024),
      script_urls: scripts.map((r) => new URL(r.url).pathname),
      bootup: (a["bootup-time"]?.details?.items || []).slice(0, 6).map((r) => ({ url: r.url.replace(base, ""), total: Math.round(r.total), script: Math.round(r.scripting) })),
    }) + "\n");
    await page.close();
  }
} finally {
  await browser.close();
}
