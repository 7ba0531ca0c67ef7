// End-to-end: the web app in Chromium against `todo-host up` at
// TODO_BASE_URL. Each scenario states what a person does and what they
// must see. Exits non-zero on any failure, console error, failed request
// or serious accessibility violation.

import {
  accessible,
  allowing,
  apiGet,
  apiPost,
  BASE,
  device,
  eventually,
  expect,
  launch,
  problems,
  screenshot,
  tab,
} from "./harness.mjs";

const run = Date.now().toString(36);
const PASSWORD = "correct horse battery";
const alice = `alice-${run}@example.test`;
const bob = `bob-${run}@example.test`;

const row = (page, title) => page.getByTestId("task").filter({ hasText: title });

async function signUp(page, email, name) {
  await page.goto("/signup/");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
}

async function signIn(page, email) {
  await page.goto("/signin/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
}

async function live(page) {
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
}

/** Fills the open task dialog. */
async function fillTask(page, t) {
  const d = page.getByTestId("task-dialog");
  if (t.title !== undefined) await d.getByLabel("Title", { exact: true }).fill(t.title);
  if (t.priority) await d.getByLabel("Priority").selectOption(t.priority);
  if (t.tags) await d.getByLabel("Tags").fill(t.tags);
  if (t.date) await d.getByLabel("Date", { exact: true }).fill(t.date);
  if (t.time) await d.getByLabel(/^Time/).first().fill(t.time);
  if (t.reminderAt) {
    await d.getByRole("button", { name: "Add reminder" }).click();
    await d.getByLabel("Reminder 1", { exact: true }).selectOption("at");
    await d.getByLabel(/^At \(this device/).fill(t.reminderAt);
  }
  return d;
}

async function createTask(page, t) {
  await page.getByRole("button", { name: "New task" }).click();
  const d = await fillTask(page, t);
  await d.getByRole("button", { name: "Add task" }).click();
  await d.waitFor({ state: "detached" });
  await row(page, t.title).waitFor();
}

/** `YYYY-MM-DDTHH:MM:SS` in the browser's zone, `ms` from now. */
async function localIn(page, ms) {
  return page.evaluate((ms) => {
    const d = new Date(Date.now() + ms);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, ms);
}

const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

let browser;
let a1; // alice's first device
let a2; // alice's second device

scenario("sign up, and the session survives a reload", async () => {
  a1 = await device(browser);
  await a1.page.goto("/");
  await a1.page.waitForURL(/\/signin\/$/);
  await accessible(a1.page, "sign-in");
  await screenshot(a1.page, "sign-in");
  await a1.page.getByRole("link", { name: "Create an account" }).click();
  await a1.page.getByRole("heading", { name: "Create your account" }).waitFor();
  await accessible(a1.page, "sign-up");
  await signUp(a1.page, alice, "Alice");
  await a1.page.reload();
  await a1.page.getByRole("heading", { name: "Tasks" }).waitFor();
  await a1.page.getByText("No tasks yet").waitFor();
  await live(a1.page);
});

scenario("a script injected into the page does not run", async () => {
  // What a cross-site scripting hole would add: an inline script. The
  // page's own inline scripts ran (it is live); this one has no hash in
  // the page's policy, and Chromium refuses it.
  const policy = /Content Security Policy/;
  const ran = await allowing([policy], async () => {
    const refused = a1.page.waitForEvent("console", { predicate: (m) => policy.test(m.text()), timeout: 5000 });
    const result = await a1.page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true;";
      document.head.append(s);
      return window.__injected === true;
    });
    await refused;
    return result;
  });
  expect(ran === false, "an injected inline script ran");

  // What such a script could reach holds no long-lived credential: the
  // refresh token is only in an HttpOnly cookie for /api/auth/.
  const visible = await a1.page.evaluate(() => ({
    stored: JSON.parse(localStorage.getItem("todo.session")),
    cookies: document.cookie,
  }));
  expect(visible.stored.accessToken && visible.stored.refreshToken === undefined, "no refresh token in localStorage");
  expect(!visible.cookies.includes("todo_refresh"), `the page sees the cookie: ${visible.cookies}`);
  const jar = await a1.context.cookies();
  const cookie = jar.find((c) => c.name === "todo_refresh");
  expect(cookie, "the browser holds the refresh cookie");
  expect(
    cookie.httpOnly && cookie.sameSite === "Strict" && cookie.path === "/api/auth/",
    `the cookie is HttpOnly, SameSite=Strict, for /api/auth/ only: ${JSON.stringify(cookie)}`,
  );
});

scenario("create, edit, complete, delete and undo", async () => {
  const { page } = a1;
  await page.getByRole("button", { name: "New task" }).click();
  await fillTask(page, { title: "Buy milk", priority: "high", tags: "errands, home", date: "2030-03-04", time: "09:30" });
  await accessible(page, "edit-dialog");
  await screenshot(page, "edit-dialog");
  await page.getByTestId("task-dialog").getByRole("button", { name: "Add task" }).click();
  await row(page, "Buy milk").waitFor();
  const meta = await row(page, "Buy milk").textContent();
  expect(meta.includes("high") && meta.includes("#errands") && meta.includes("09:30"), `row shows priority, tags, due: ${meta}`);

  await page.getByRole("button", { name: "Edit “Buy milk”" }).click();
  await fillTask(page, { title: "Buy oat milk" });
  await page.getByTestId("task-dialog").getByRole("button", { name: "Save" }).click();
  await row(page, "Buy oat milk").waitFor();

  // click, not check: the box turns once the server has completed the task.
  await page.getByRole("checkbox", { name: "Complete “Buy oat milk”" }).click();
  await page.getByRole("checkbox", { name: "Reopen “Buy oat milk”" }).waitFor();
  await page.getByTestId("toast-info").filter({ hasText: "Completed" }).getByRole("button", { name: "Undo" }).click();
  await page.getByRole("checkbox", { name: "Complete “Buy oat milk”" }).waitFor();

  await page.getByRole("button", { name: "Delete “Buy oat milk”" }).click();
  await row(page, "Buy oat milk").waitFor({ state: "detached" });
  await page.getByTestId("toast-info").filter({ hasText: "Deleted" }).getByRole("button", { name: "Undo" }).click();
  await row(page, "Buy oat milk").waitFor();
  const restored = await row(page, "Buy oat milk").textContent();
  expect(restored.includes("#errands") && restored.includes("high"), "undo brings back the task as it was");
});

scenario("filter and search", async () => {
  const { page } = a1;
  await createTask(page, { title: "Write report", priority: "urgent", tags: "work" });
  await createTask(page, { title: "Water plants", tags: "home" });
  const titles = async () => (await page.getByTestId("task").locator(".title").allTextContents()).sort();

  await page.getByLabel("Search").fill("report");
  await eventually("search to narrow the list", async () => JSON.stringify(await titles()) === '["Write report"]');
  await page.getByLabel("Search").fill("");

  const filter = page.getByRole("combobox", { name: /^Filter/ });
  await filter.fill("");
  await filter.pressSequentially("tag:ho");
  await page.getByRole("option", { name: "tag:home" }).waitFor();
  await filter.press("Enter");
  expect((await filter.inputValue()) === "tag:home ", "completion fills in the tag");
  await eventually("tag filter", async () => JSON.stringify(await titles()) === '["Buy oat milk","Water plants"]');

  // The refusal of a filter that does not parse is what the person must see.
  await allowing([/422 GET .*\/api\/tasks\?filter=priority%3E&/, /status of 422/], async () => {
    await filter.fill("priority>");
    await page.getByTestId("filter-error").waitFor();
    await filter.fill("");
    await page.getByTestId("filter-error").waitFor({ state: "detached" });
  });
  await page.getByRole("button", { name: "High priority" }).click();
  await eventually("quick filter", async () => JSON.stringify(await titles()) === '["Buy oat milk","Write report"]');
  await page.getByRole("button", { name: "High priority" }).click();
  await page.getByLabel("Sort").selectOption("title");
  await eventually("sort by title", async () => {
    const all = await page.getByTestId("task").locator(".title").allTextContents();
    return JSON.stringify(all) === '["Buy oat milk","Water plants","Write report"]';
  });
  await accessible(page, "list");
  await screenshot(page, "list");
});

scenario("two devices of one user see each other's changes within a second", async () => {
  a2 = await device(browser);
  await signIn(a2.page, alice);
  await live(a2.page);
  await live(a1.page);
  const started = Date.now();
  await createTask(a1.page, { title: "From device one" });
  const saved = Date.now();
  await row(a2.page, "From device one").waitFor({ timeout: 1000 });
  console.log(`  device two saw the new task ${Date.now() - saved} ms after it was saved (${saved - started} ms to save)`);

  await a2.page.getByRole("checkbox", { name: "Complete “From device one”" }).click();
  const done = Date.now();
  await a1.page.getByRole("checkbox", { name: "Reopen “From device one”" }).waitFor({ timeout: 1000 });
  console.log(`  device one saw the completion ${Date.now() - done} ms after the click`);
});

scenario("offline banner, and changes made meanwhile arrive on reconnect", async () => {
  // Whatever the page tries while the network is down fails, as it should.
  await allowing([/WebSocket/, /ERR_INTERNET_DISCONNECTED/], async () => {
    await a2.context.setOffline(true);
    await a2.page.getByRole("alert").filter({ hasText: "You are offline" }).waitFor();
    await createTask(a1.page, { title: "Made while offline" });
    await a2.context.setOffline(false);
    await a2.page.getByRole("alert").filter({ hasText: "You are offline" }).waitFor({ state: "detached", timeout: 20000 });
    await row(a2.page, "Made while offline").waitFor();
  });
});

scenario("a reminder due in a few seconds shows a toast; its acknowledgement is recorded", async () => {
  const { page } = a1;
  const at = await localIn(page, 6000);
  await createTask(page, { title: "Call the plumber", date: at.slice(0, 10), time: "23:59", reminderAt: at });
  const toast = page.getByTestId("toast-reminder").filter({ hasText: "Call the plumber" });
  await toast.waitFor({ timeout: 30000 });
  await toast.getByRole("button", { name: "Acknowledge" }).click();
  await toast.waitFor({ state: "detached" });
  // The other device shows it too, and acknowledges for itself (a
  // reminder is delivered per device).
  const other = a2.page.getByTestId("toast-reminder").filter({ hasText: "Call the plumber" });
  await other.getByRole("button", { name: "Acknowledge" }).click();
  await other.waitFor({ state: "detached" });

  await page.getByRole("link", { name: "History of “Call the plumber”" }).click();
  await page.getByRole("heading", { name: "History of “Call the plumber”" }).waitFor();
  await page.locator('[data-type="com.todo.reminder.delivered.v1"]').first().waitFor({ timeout: 15000 });
  await page.getByTestId("verification").filter({ hasText: "intact" }).waitFor();
  const types = await page.getByTestId("history-entry").evaluateAll((els) => els.map((e) => e.dataset.type));
  for (const t of ["com.todo.task.created.v1", "com.todo.reminder.triggered.v1", "com.todo.reminder.delivered.v1"]) {
    expect(types.includes(t), `history shows ${t}: ${types}`);
  }
  await accessible(page, "history");
  await screenshot(page, "history");
  await page.getByRole("link", { name: "← Back to tasks" }).click();
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
});

scenario("the chat creates a recurring task and the list shows it", async () => {
  const { page } = a1;
  const box = page.getByLabel("Message to the assistant");
  await box.fill("every monday at 9am water the ferns");
  await box.press("Enter");
  const yes = page.getByRole("group", { name: "Answer the assistant" }).getByRole("button", { name: "Yes" });
  await yes.waitFor();
  await yes.click();
  const card = page.getByTestId("action-card").filter({ hasText: "Added" });
  await card.waitFor();
  await row(page, "water the ferns").waitFor();
  const text = await row(page, "water the ferns").textContent();
  expect(/monday/i.test(text), `the list shows the rule: ${text}`);
  await accessible(page, "chat");
  await screenshot(page, "chat");
  // The card links to the task.
  await card.getByRole("link").click();
  await page.getByRole("heading", { name: /History of “water the ferns”/i }).waitFor();
  await page.goBack();
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
});

scenario("the assistant's question about which task is answered with a button", async () => {
  const { page } = a1;
  for (const title of ["Pay rent", "Pay taxes"]) await apiPost(page, "/api/tasks", { title });
  await row(page, "Pay taxes").waitFor();
  const box = page.getByLabel("Message to the assistant");
  await box.fill("complete pay");
  await box.press("Enter");
  const choice = page.getByRole("group", { name: "Answer the assistant" }).getByRole("button", { name: /Pay taxes/ });
  await choice.waitFor();
  await choice.click();
  await page.getByTestId("action-card").filter({ hasText: "Completed: Pay taxes" }).waitFor();
  await page.getByRole("checkbox", { name: "Reopen “Pay taxes”" }).waitFor();
  await page.getByRole("checkbox", { name: "Complete “Pay rent”" }).waitFor();
});

scenario("keyboard only", async () => {
  const { page } = a1;
  await page.getByRole("button", { name: "New task" }).focus();
  await page.keyboard.press("Enter");
  // The dialog takes the focus to its first field.
  await page.keyboard.type("Typed with the keyboard");
  await page.keyboard.press("Enter");
  await row(page, "Typed with the keyboard").waitFor();
  await page.getByRole("checkbox", { name: "Complete “Typed with the keyboard”" }).focus();
  await page.keyboard.press("Space");
  await page.getByRole("checkbox", { name: "Reopen “Typed with the keyboard”" }).waitFor();
  await page.getByRole("button", { name: "Edit “Typed with the keyboard”" }).focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("task-dialog").waitFor();
  await page.keyboard.press("Escape");
  await page.getByTestId("task-dialog").waitFor({ state: "detached" });
});

scenario("more tasks load as the list scrolls", async () => {
  const c = await device(browser);
  await signUp(c.page, `carol-${run}@example.test`, "Carol");
  for (let i = 1; i <= 60; i++) await apiPost(c.page, "/api/tasks", { title: `Chore ${String(i).padStart(2, "0")}` });
  await c.page.reload();
  await row(c.page, "Chore 60").waitFor();
  expect((await c.page.getByTestId("task").count()) === 50, "the first page holds 50 tasks");
  await c.page.getByTestId("task").last().scrollIntoViewIfNeeded();
  await c.page.mouse.wheel(0, 5000);
  await row(c.page, "Chore 01").waitFor();
  expect((await c.page.getByTestId("task").count()) === 60, "scrolling loads the rest");
  await c.context.close();
});

scenario("editing a recurring task shows the rule in words and its next dates", async () => {
  const { page } = a1;
  await page.getByRole("button", { name: /Edit “water the ferns”/i }).click();
  const preview = page.getByTestId("recurrence-preview");
  await preview.waitFor();
  expect((await preview.locator("li").count()) === 4, "four next dates");
  const d = page.getByTestId("task-dialog");
  await d.getByLabel("Repeats").selectOption("custom");
  await d.getByLabel("Every").fill("2");
  await eventually("the preview of the changed rule", async () => /2 weeks/i.test((await preview.textContent()) ?? ""));
  await d.getByRole("button", { name: "Cancel" }).click();
});

scenario("a second user sees none of it", async () => {
  const b = await device(browser, { zone: "America/New_York" });
  await signUp(b.page, bob, "Bob");
  expect((await b.page.getByTestId("task").count()) === 0, "bob's list is empty");
  const mine = await apiGet(a1.page, "/api/tasks?limit=200");
  const someId = mine.body.tasks[0].id;
  await allowing([/404 GET .*\/api\/tasks\//, /status of 404/], async () => {
    await b.page.goto(`/task/?id=${encodeURIComponent(someId)}`);
    await b.page.getByText("No history recorded for this task.").waitFor();
    expect((await b.page.getByRole("heading", { name: "History of “Deleted task”" }).count()) === 1, "no title of alice's");
  });
  await b.page.goto("/");
  const box = b.page.getByLabel("Message to the assistant");
  await box.fill("what are my tasks?");
  await box.press("Enter");
  await b.page.getByTestId("chat-assistant").first().waitFor();
  const said = await b.page.getByTestId("chat-assistant").last().textContent();
  expect(!/ferns|milk|report|plumber/i.test(said), `the assistant tells bob nothing of alice's: ${said}`);
  await b.context.close();
});

scenario("settings: name and time zone", async () => {
  const { page } = a1;
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await page.getByLabel("Name").fill("Alice Liddell");
  await page.getByLabel("Time zone").selectOption("Asia/Tokyo");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  const me = await apiGet(page, "/api/me");
  expect(me.body.name === "Alice Liddell" && me.body.time_zone === "Asia/Tokyo", `profile saved: ${JSON.stringify(me.body)}`);
  await accessible(page, "settings");
  await screenshot(page, "settings");
});

scenario("phone width", async () => {
  const phone = await device(browser, { viewport: { width: 390, height: 844 } });
  await signIn(phone.page, alice);
  await row(phone.page, "Write report").waitFor();
  await accessible(phone.page, "phone");
  await screenshot(phone.page, "phone");
  await phone.page.getByRole("group", { name: "Show" }).getByRole("button", { name: "Assistant" }).click();
  await phone.page.getByLabel("Message to the assistant").waitFor();
  // A new device opens the user's latest conversation.
  await phone.page.getByTestId("chat-user").filter({ hasText: "water the ferns" }).waitFor();
  await screenshot(phone.page, "phone-chat");
  await phone.context.close();
});

scenario("an expired session goes back to sign-in and keeps what was typed", async () => {
  const { page } = a1;
  await page.goto("/");
  await page.getByRole("button", { name: "New task" }).click();
  await fillTask(page, { title: "Typed before expiry" });
  // The session ends elsewhere: its refresh token (in the cookie) is
  // revoked and the access token no longer works.
  await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem("todo.session"));
    await fetch("/api/auth/signout", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    localStorage.setItem("todo.session", JSON.stringify({ ...s, accessToken: "expired" }));
  });
  // 401: the access token; 422: the refresh with no cookie left.
  await allowing([/401/, /422/], async () => {
    // Saving notices it, unless the real-time connection noticed first.
    await page
      .getByTestId("task-dialog")
      .getByRole("button", { name: "Add task" })
      .click({ timeout: 3000 })
      .catch(() => {});
    await page.waitForURL(/\/signin\/\?expired=1/);
    await page.getByText("Your session has expired").waitFor();
  });
  await page.getByLabel("Email").fill(alice);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  const title = page.getByTestId("task-dialog").getByLabel("Title", { exact: true });
  await title.waitFor();
  expect((await title.inputValue()) === "Typed before expiry", "the draft is back");
  await page.getByTestId("task-dialog").getByRole("button", { name: "Add task" }).click();
  await row(page, "Typed before expiry").waitFor();
});

scenario("two tabs renewing the session at once both stay signed in", async () => {
  // A refresh token works once and its reuse ends the session, so the two
  // tabs must not both spend the one they share.
  const d = await device(browser);
  await signIn(d.page, alice);
  const second = await tab(d.context);
  await second.goto("/");
  await second.getByRole("heading", { name: "Tasks" }).waitFor();
  const stored = () => d.page.evaluate(() => JSON.parse(localStorage.getItem("todo.session")));
  for (let round = 0; round < 3; round++) {
    const before = await stored();
    // The access token is about to run out: both tabs renew on load.
    await d.page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem("todo.session"));
      localStorage.setItem("todo.session", JSON.stringify({ ...s, expiresAt: Date.now() }));
    });
    // Two refreshes with one cookie at the same moment: the server answers
    // the loser 409 (ending nothing) and that tab waits for the newer
    // session; a refresh cut off by the reload is retried and exchanged
    // again.
    const raced = [/^409 POST .*\/api\/auth\/refresh/, /status of 409 .*\/api\/auth\/refresh/];
    await allowing(raced, async () => {
      await Promise.all([d.page.reload(), second.reload()]);
      for (const p of [d.page, second]) {
        await p.getByRole("heading", { name: "Tasks" }).waitFor();
        await row(p, "Write report").waitFor();
      }
    });
    const after = await stored();
    // Renewed: a fresh 15-minute access token (two issued within one
    // second can be equal, so its expiry is what tells; the forced one is past).
    expect(after.expiresAt - Date.now() > 60_000, `round ${round}: the session was renewed`);
  }
  // The cookie's refresh token is the session's live one.
  const status = await d.page.evaluate(async () => {
    const res = await fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    return res.status;
  });
  expect(status === 200, `the cookie's refresh token still works: ${status}`);
  await d.context.close();
});

scenario("after signing in, ?next= never leaves the origin", async () => {
  // Off-origin once the browser has parsed them (a backslash or a tab
  // between the slashes is a second slash).
  for (const next of ["/%5C127.0.0.1:9/phish", "/%09/127.0.0.1:9/phish2", "//127.0.0.1:9/phish3"]) {
    const d = await device(browser);
    await d.page.goto(`/signin/?next=${next}`);
    await d.page.getByLabel("Email").fill(alice);
    await d.page.getByLabel("Password").fill(PASSWORD);
    await d.page.getByRole("button", { name: "Sign in" }).click();
    await d.page.getByRole("heading", { name: "Tasks" }).waitFor();
    expect(new URL(d.page.url()).origin === new URL(BASE).origin, `next=${next} stays on the origin (${d.page.url()})`);
    await d.context.close();
  }
});

async function main() {
  browser = await launch();
  let failed = 0;
  for (const s of scenarios) {
    const before = problems.length;
    const t0 = Date.now();
    try {
      await s.fn();
      const extra = problems.length - before;
      console.log(`${extra ? "FAIL" : "ok  "} ${s.name} (${Date.now() - t0} ms)`);
      if (extra) failed++;
    } catch (e) {
      failed++;
      console.log(`FAIL ${s.name} (${Date.now() - t0} ms): ${e?.stack ?? e}`);
      for (const [name, ctx] of [["device1", a1], ["device2", a2]]) {
        if (ctx) await screenshot(ctx.page, `failure-${scenarios.indexOf(s)}-${name}`).catch(() => {});
      }
    }
  }
  await browser.close();
  for (const p of problems) console.log(`problem: ${p}`);
  console.log(`e2e: ${scenarios.length - failed} of ${scenarios.length} scenarios passed, ${problems.length} problems`);
  process.exit(failed || problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
