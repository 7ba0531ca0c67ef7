// What every end-to-end scenario shares: Debian's Chromium driven by
// playwright-core, pages that record console errors and failed requests,
// axe-core on each screen, and screenshots named after the screen.

import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

export const BASE = process.env.TODO_BASE_URL ?? "http://127.0.0.1:8080";
const SHOTS = process.env.TODO_SCREENSHOTS ?? join(process.cwd(), "..", "target", "e2e-screenshots");
const CHROMIUM = process.env.TODO_CHROMIUM ?? "/usr/bin/chromium";

/** Problems seen by any page; each scenario may allow some it causes on purpose. */
export const problems = [];
let allowed = [];

/** Runs `fn` with responses matching `patterns` (regexes over "STATUS URL"
 * or console text) not counted as problems: the refusals a scenario asks
 * for (a filter that does not parse, a task of another user). */
export async function allowing(patterns, fn) {
  const before = allowed;
  allowed = [...allowed, ...patterns];
  try {
    return await fn();
  } finally {
    allowed = before;
  }
}

function note(kind, text) {
  if (allowed.some((re) => re.test(text))) return;
  problems.push(`${kind}: ${text}`);
}

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  // Only this run's screens: no failure shot of an earlier run survives.
  for (const f of readdirSync(SHOTS)) if (f.endsWith(".png")) rmSync(join(SHOTS, f));
  return chromium.launch({
    executablePath: CHROMIUM,
    // No background connections: this machine's network refuses them, and
    // each would be a failed request in the log.
    args: [
      "--no-sandbox",
      "--disable-dev-shm-usage",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A browser context is one device: its own storage, its own device id. */
export async function device(browser, { zone = "Europe/Paris", viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ baseURL: BASE, timezoneId: zone, viewport, locale: "en-GB" });
  const page = await context.newPage();
  watch(page);
  return { context, page };
}

/** Another tab of a device: same storage, watched like the first. */
export async function tab(context) {
  const page = await context.newPage();
  watch(page);
  return page;
}

function watch(page) {
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const where = msg.location()?.url ?? "";
    note("console error", `${msg.text()} ${where}`);
  });
  page.on("pageerror", (err) => note("page error", String(err)));
  page.on("requestfailed", (req) => {
    const reason = req.failure()?.errorText ?? "";
    // Aborted on purpose: a list request replaced by a newer one.
    if (reason === "net::ERR_ABORTED") return;
    note("request failed", `${reason} ${req.method()} ${req.url()}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) note("HTTP error", `${res.status()} ${res.request().method()} ${res.url()}`);
  });
}

/** Axe on the page as it is now: no serious or critical violation. */
export async function accessible(page, screen) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) {
    problems.push(`axe on ${screen}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`);
  }
  console.log(`  axe ${screen}: ${result.violations.length} violations, ${bad.length} serious or critical`);
}

export async function screenshot(page, screen) {
  await page.screenshot({ path: join(SHOTS, `${screen}.png`), fullPage: false });
}

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** The stored access token of a page's session (for API checks the UI
 * cannot show). */
export async function token(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("todo.session") ?? "null")?.accessToken);
}

export async function apiGet(page, path) {
  const t = await token(page);
  const res = await page.request.get(path, { headers: { Authorization: `Bearer ${t}` } });
  return { status: res.status(), body: await res.json() };
}

export async function apiPost(page, path, body) {
  const t = await token(page);
  const res = await page.request.post(path, { data: body, headers: { Authorization: `Bearer ${t}` } });
  expect(res.ok(), `POST ${path}: ${res.status()}`);
  return res.json();
}

/** Waits until `fn` returns something truthy, or fails saying `what`. */
export async function eventually(what, fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}
