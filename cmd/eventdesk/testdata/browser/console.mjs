// console.mjs drives the agent console in Debian's Chromium through
// playwright-core, for cmd/eventdesk/console_test.go, which starts the
// servers and passes everything in the environment:
//
//   CONSOLE_URL   node A, whose /console the browsers load (restarted mid-test)
//   OTHER_URL     node B, same database: writes while node A is down
//   API_KEY       the tenant's API key; TOKEN_A, TOKEN_B agent tokens
//   AGENT_A, AGENT_B  the agents' names; TICKET_ID the ticket both open
//   OUT_DIR       where the screenshot goes; CHROMIUM the browser
//
// It talks to the Go test over stdout and stdin, one line each: it prints
// "@@cut" and waits for "down" (node A stopped), then "@@restore" and waits
// for "up" (node A serving again). Its last line is "@@ok <json>"; any
// failure prints "@@fail <message>" and exits 1.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const CONSOLE_URL = env("CONSOLE_URL"), OTHER_URL = env("OTHER_URL"), API_KEY = env("API_KEY");
const TOKEN_A = env("TOKEN_A"), TOKEN_B = env("TOKEN_B"), AGENT_A = env("AGENT_A"), AGENT_B = env("AGENT_B");
const TICKET_ID = env("TICKET_ID");
const OUT_DIR = env("OUT_DIR"), CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(step, want) {
  console.log("@@" + step);
  const { value, done } = await lines.next();
  if (done || value.trim() !== want) throw new Error(`asked ${step}: got ${JSON.stringify(value)}, want ${want}`);
}

function check(ok, msg) {
  if (!ok) throw new Error(msg);
}

async function api(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: "Bearer " + API_KEY, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  check(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const comment = (base, text) => api(base, "POST", `/v1/tickets/${TICKET_ID}/history`, { type: "comment", value: { text } });

// entry is the timeline entry holding text exactly.
const entries = (page, text) => page.locator("#timeline li.entry", { has: page.locator("p.text", { hasText: text }) });

const figures = {};
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // The machine's closed network: no background connections, no QUIC.
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let cutAt = Infinity; // console errors after this may be the refused reconnects
const problems = [];
try {
  const pages = [];
  for (const [who, token] of [["A", TOKEN_A], ["B", TOKEN_B]]) {
    // Two contexts: two agents who share nothing (own sessionStorage).
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await ctx.newPage();
    page.on("pageerror", (err) => problems.push(`${who}: uncaught ${err.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const during = Date.now() >= cutAt && /net::ERR_|WebSocket connection to/.test(m.text());
      if (!during) problems.push(`${who}: console error ${m.text()}`);
    });
    const res = await page.goto(CONSOLE_URL + "/console/");
    check(res.status() === 200, `GET /console/: ${res.status()}`);
    const csp = res.headers()["content-security-policy"] || "";
    check(/default-src 'self'/.test(csp), `Content-Security-Policy ${JSON.stringify(csp)}`);
    check(!(await page.locator("#desk").isVisible()), "the desk shows before signing in");
    // Keyboard only: the token field has the focus, Enter signs in.
    await page.locator("#token:focus").waitFor({ timeout: 10000 });
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10000 });
    check(!(await page.locator("#signin").isVisible()), "the sign-in form still shows once signed in");
    await page.locator(`#tickets [data-ticket="${TICKET_ID}"]`).waitFor({ timeout: 10000 });
    pages.push(page);
  }
  const [pa, pb] = pages;

  // B opens the ticket by its link; A from the list, with the keyboard.
  await pb.goto(CONSOLE_URL + "/console/#/tickets/" + TICKET_ID);
  await pb.locator("#timeline li.entry").first().waitFor({ timeout: 10000 });
  await pa.locator(`#tickets [data-ticket="${TICKET_ID}"]`).focus();
  await pa.keyboard.press("Enter");
  await pa.locator("#timeline li.entry").first().waitFor({ timeout: 10000 });
  check(await pa.evaluate(() => document.activeElement.id) === "ticket-h", "opening a ticket moves the focus to its heading");

  // B sees A viewing, then typing.
  await pb.locator("#presence li", { hasText: AGENT_A }).filter({ hasText: "viewing" }).waitFor({ timeout: 10000 });
  await pa.locator("#reply-text").focus();
  await pa.keyboard.type("Looking at it");
  await pb.locator("#presence li", { hasText: AGENT_A }).filter({ hasText: "typing" }).waitFor({ timeout: 10000 });

  // A comment through the API reaches both within a second.
  // Each page notes the moment the entry enters its DOM (same clock as
  // this process), so the figure is the console's, not the polling's.
  const live = "Live comment " + Date.now();
  await Promise.all(pages.map((p) => p.evaluate((text) => {
    new MutationObserver((changes, obs) => {
      for (const c of changes) {
        for (const n of c.addedNodes) {
          if (n.textContent && n.textContent.includes(text)) {
            window.seenAt = Date.now();
            obs.disconnect();
          }
        }
      }
    }).observe(document.getElementById("timeline"), { childList: true });
  }, live)));
  // From the moment the request is sent: the API's own answer time counts.
  let t0 = Date.now();
  await comment(CONSOLE_URL, live);
  figures.post_ms = Date.now() - t0;
  await Promise.all(pages.map((p) => entries(p, live).waitFor({ timeout: 10000 })));
  const seen = await Promise.all(pages.map((p) => p.evaluate(() => window.seenAt)));
  figures.comment_to_both_ms = Math.max(...seen) - t0;
  check(figures.comment_to_both_ms <= 1000, `the API's comment took ${seen.map((x) => x - t0)} ms to show (A, B), want at most 1000`);

  // A portal activity shows as it is recorded.
  await api(CONSOLE_URL, "POST", `/v1/tickets/${TICKET_ID}/activities`, { text: "Customer called back", direction: "INBOUND" });
  await Promise.all(pages.map((p) => entries(p, "Customer called back").and(p.locator('li[data-type="ticket.activity_added"]')).waitFor({ timeout: 10000 })));

  // A replies (internal) and changes the status through the console; B
  // sees both, and the ticket moves in B's list.
  await pa.locator("#reply-text").fill("Internal note from the console");
  await pa.locator('input[name="visibility"][value="internal"]').check();
  await pa.getByRole("button", { name: "Send reply" }).click();
  await entries(pb, "Internal note from the console").and(pb.locator("li.internal")).waitFor({ timeout: 10000 });
  await pa.locator("#status").selectOption("in_progress");
  await pa.getByRole("button", { name: "Apply" }).click();
  await pb.locator(`#tickets [data-ticket="${TICKET_ID}"][data-status="in_progress"]`).waitFor({ timeout: 10000 });
  await pb.locator('#timeline li[data-type="ticket.status_changed"]').waitFor({ timeout: 10000 });

  // Assigning moves it: B lists unassigned tickets only, A assigns the
  // ticket to B in the console, it leaves B's list and shows under B.
  const row = pb.locator(`#tickets [data-ticket="${TICKET_ID}"]`);
  await pb.locator("#list-filter").selectOption({ label: "Unassigned" });
  await row.waitFor({ timeout: 10000 });
  await pa.locator("#assignee").selectOption({ label: AGENT_B });
  await pa.getByRole("button", { name: "Apply" }).click();
  await row.waitFor({ state: "detached", timeout: 10000 });
  await pb.locator("#list-filter").selectOption({ label: "Assigned to " + AGENT_B });
  await row.waitFor({ timeout: 10000 });
  await pb.locator("#ticket-meta", { hasText: "assigned to " + AGENT_B }).waitFor({ timeout: 10000 });
  await pb.locator("#list-filter").selectOption({ label: "Every ticket" });

  // A new ticket appears in both lists.
  const fresh = await api(CONSOLE_URL, "POST", "/v1/tickets", { title: "Appears live", priority: "urgent" });
  await Promise.all(pages.map((p) => p.locator(`#tickets [data-ticket="${fresh.id}"]`).waitFor({ timeout: 10000 })));

  // The ticket's video room, and a participant joining, live.
  await pa.getByRole("button", { name: "Open video room" }).click();
  await Promise.all(pages.map((p) => p.locator("#video-status", { hasText: "Open" }).waitFor({ timeout: 10000 })));
  await api(CONSOLE_URL, "POST", `/v1/video-rooms/${TICKET_ID}/participants`, { identity: "customer-1", user: { id: "cust-1", name: "Casey Customer", kind: "user" } });
  await Promise.all(pages.map((p) => p.locator('#participants li[data-identity="customer-1"]').waitFor({ timeout: 10000 })));

  // Keyboard-usable: every control has a label, everything clickable is
  // a button or a link, nothing is taken out of the tab order.
  for (const p of pages) {
    const unlabelled = await p.evaluate(() => [...document.querySelectorAll("input, select, textarea")]
      .filter((c) => c.labels.length === 0 && !c.getAttribute("aria-label")).map((c) => c.id || c.name));
    check(unlabelled.length === 0, `controls without a label: ${unlabelled}`);
    const untabbable = await p.evaluate(() => [...document.querySelectorAll("button, a, input, select, textarea")]
      .filter((c) => c.tabIndex < 0).map((c) => c.id || c.textContent));
    check(untabbable.length === 0, `controls out of the tab order: ${untabbable}`);
  }

  mkdirSync(OUT_DIR, { recursive: true });
  await pa.locator("#reply-text").fill("");
  await pb.evaluate(() => document.activeElement && document.activeElement.blur());
  await pb.screenshot({ path: join(OUT_DIR, "console.png"), fullPage: true });

  // The socket is cut: node A stops (its sockets close), a comment and a
  // priority change are written through node B meanwhile, node A comes
  // back.
  cutAt = Date.now();
  await ask("cut", "down");
  await Promise.all(pages.map((p) => p.locator('#conn[data-state="reconnecting"]').waitFor({ timeout: 10000 })));
  const missed = "Written while cut off " + Date.now();
  await comment(OTHER_URL, missed);
  await api(OTHER_URL, "PATCH", `/v1/tickets/${TICKET_ID}`, { priority: "low" });
  for (const p of pages) check(await entries(p, missed).count() === 0, "a comment showed up while the socket was down");
  await ask("restore", "up");
  t0 = Date.now();
  await Promise.all(pages.map((p) => entries(p, missed).waitFor({ timeout: 30000 })));
  figures.resume_ms = Date.now() - t0;
  await Promise.all(pages.map((p) => p.locator('#conn[data-state="live"]').waitFor({ timeout: 15000 })));
  // The list's subscription resumed too: the priority changed meanwhile.
  await Promise.all(pages.map((p) => p.locator(`#tickets [data-ticket="${TICKET_ID}"][data-priority="low"]`).waitFor({ timeout: 10000 })));
  // After reconnecting: another live comment, then a moment for strays.
  const after = "After the reconnect " + Date.now();
  await comment(CONSOLE_URL, after);
  await Promise.all(pages.map((p) => entries(p, after).waitFor({ timeout: 10000 })));
  await new Promise((r) => setTimeout(r, 1000));

  // Exactly once: each comment once, and the timeline is the ticket's
  // stream, event for event, without a repeat.
  const stream = (await api(CONSOLE_URL, "GET", `/v1/tickets/${TICKET_ID}/events`)).events.map((e) => e.id);
  for (const [i, p] of pages.entries()) {
    const who = "AB"[i];
    for (const text of [live, missed, after]) {
      const n = await entries(p, text).count();
      check(n === 1, `${who}: ${JSON.stringify(text)} shown ${n} times, want 1`);
    }
    const shown = await p.locator("#timeline li.entry").evaluateAll((els) => els.map((e) => e.dataset.eventId));
    check(new Set(shown).size === shown.length, `${who}: a timeline entry is repeated: ${shown}`);
    check(JSON.stringify(shown) === JSON.stringify(stream),
      `${who}: timeline has ${shown.length} entries, the ticket's stream ${stream.length}: got ${shown}, want ${stream}`);
  }
  figures.timeline_entries = stream.length;

  // A leaves the ticket: B no longer has A here.
  await pa.evaluate(() => { location.hash = "#/"; });
  await pb.locator("#presence li", { hasText: AGENT_A }).waitFor({ state: "detached", timeout: 10000 });
  check(problems.length === 0, "browser errors:\n" + problems.join("\n"));
  console.log("@@ok " + JSON.stringify(figures));
} catch (err) {
  console.log("@@fail " + String(err && err.stack || err).replaceAll("\n", "\\n") + (problems.length ? "\\nbrowser errors:\\n" + problems.join("\\n") : ""));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit();
}
