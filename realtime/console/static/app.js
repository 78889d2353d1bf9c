// app.js: the agent console. Reads and writes go through the native REST
// API; everything live (the ticket list, the open ticket's timeline, who
// is here, the video room) arrives over the stream (stream.js).
import { API, APIError } from "./api.js";
import { Stream } from "./stream.js";

const TOKEN_KEY = "eventdesk.console.token";
const $ = (id) => document.getElementById(id);

const KIND_RANK = { open: 0, pending: 1, resolved: 2, closed: 3 };
const PRIORITY_RANK = { urgent: 0, high: 1, medium: 2, low: 3 };
const STATE_TEXT = {
  "signed-out": "Signed out",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Signed out",
};

const state = {
  api: null,
  stream: null,
  config: { statuses: [], priorities: [] },
  agents: new Map(), // id -> agent
  tickets: new Map(), // id -> list row {id, number, key, title, status, status_kind, priority, assignee}
  listLoaded: false,
  listLoading: false,
  pending: [], // tenant events that arrived before the list loaded
  open: null, // the open ticket: {id, ticket, version, entries:Set, dirty:Set, typingTimer}
};

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function report(id, err) {
  $(id).textContent = err ? (err instanceof APIError ? err.message : String(err.message || err)) : "";
}

// --- names -------------------------------------------------------------

function actorName(a) {
  if (!a) return "nobody";
  if (a.kind === "agent" && a.id && state.agents.has(a.id)) return state.agents.get(a.id).name;
  if (a.kind === "integration" && a.id === "api_key" && !a.name) return "API key";
  return a.name || a.email || a.id || a.kind || "someone";
}

function byOf(ev) {
  const by = ev.data && ev.data.by;
  if (by) return actorName(by);
  return (ev.metadata && ev.metadata.actor) || "system";
}

function statusDisplay(key) {
  const s = state.config.statuses.find((x) => x.key === key);
  return s ? s.display : key;
}

function priorityDisplay(key) {
  const p = state.config.priorities.find((x) => x.key === key);
  return p ? p.display : key;
}

// --- sign in -----------------------------------------------------------

async function signIn(token) {
  // A 401 once signed in (a revoked token) signs out; while signing in,
  // the form says so itself.
  const api = new API(token, () => { if (state.api === api) signOut("Your token was refused; sign in again."); });
  const [config, agents] = await Promise.all([api.get("/v1/config"), api.get("/v1/agents")]);
  sessionStorage.setItem(TOKEN_KEY, token);
  state.api = api;
  state.config = config.body;
  state.agents = new Map(agents.body.agents.map((a) => [a.id, a]));
  renderFilter();
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("signout").hidden = false;
  state.stream = new Stream(api, {
    onState: showConnection,
    onUnauthorized: () => signOut("Your token was refused; sign in again."),
  });
  state.stream.start();
  followTenant();
  route();
}

function signOut(message) {
  if (state.open) closeTicket();
  if (state.stream) state.stream.stop();
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { api: null, stream: null, listLoaded: false, listLoading: false, pending: [] });
  state.tickets.clear();
  $("tickets").replaceChildren();
  $("desk").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  showConnection("signed-out");
  report("signin-error", message || "");
  $("token").value = "";
  $("token").focus();
}

function showConnection(s, detail) {
  const c = $("conn");
  c.dataset.state = s;
  c.textContent = STATE_TEXT[s] || s;
  c.title = detail || "";
}

// --- the ticket list ---------------------------------------------------

// followTenant subscribes to everything the agent may see, live from now,
// then loads the list as of at least that position; events that arrive
// meanwhile are applied after it, in order (each sets a value, so applying
// one the list already reflects changes nothing).
function followTenant() {
  state.stream.subscribe("tenant", undefined, {
    onSubscribed: (position) => {
      if (!state.listLoaded && !state.listLoading) {
        state.listLoading = true;
        loadList(position);
      }
    },
    onEvent: (ev) => {
      if (!state.listLoaded) state.pending.push(ev);
      else applyTenantEvent(ev);
    },
  });
}

async function loadList(position, tries = 0) {
  const api = state.api;
  if (!api) return; // signed out meanwhile
  try {
    const q = new URLSearchParams({ limit: "100" });
    if (position) q.set("min_position", position);
    const res = await api.get("/v1/tickets?" + q);
    if (state.api !== api) return;
    // A list that has not caught up with the position (the server waited
    // 2 s) could miss what happened before it: ask again, for a while.
    if (res.headers.get("Eventdesk-Stale") === "true" && tries < 5) {
      setTimeout(() => loadList(position, tries + 1), 500);
      return;
    }
    for (const t of res.body.tickets) state.tickets.set(t.id, rowOf(t));
    state.listLoaded = true;
    state.listLoading = false;
    const pending = state.pending;
    state.pending = [];
    for (const ev of pending) applyTenantEvent(ev);
    renderList();
  } catch (err) {
    if (err instanceof APIError && err.status === 401) state.listLoading = false;
    else setTimeout(() => loadList(position, tries), 2000);
  }
}

function rowOf(t) {
  return {
    id: t.id, number: t.number, key: t.key, title: t.title, status: t.status,
    status_kind: t.status_kind, priority: t.priority, assignee: t.assignee || null,
  };
}

function applyTenantEvent(ev) {
  if (ev.stream_type === "agent" && ev.type === "agent.created" && ev.data) {
    state.agents.set(ev.data.id, { id: ev.data.id, name: ev.data.name, email: ev.data.email, active: true });
    renderFilter();
    if (state.open) renderAssignees();
    return;
  }
  if (ev.stream_type === "video_room" && state.open && ev.stream_id === state.open.id && !state.open.videoSub) {
    followVideo(state.open.id); // a room opened while the ticket is open
    return;
  }
  if (ev.stream_type !== "ticket") return;
  const d = ev.data || {};
  let row = state.tickets.get(ev.stream_id);
  if (ev.type === "ticket.created") {
    row = {
      id: d.id || ev.stream_id, number: d.number, key: "#" + String(d.number).padStart(3, "0"),
      title: d.title, status: d.status, status_kind: d.status_kind, priority: d.priority,
      assignee: d.assignee || null, ...(row || {}),
    };
    state.tickets.set(row.id, row);
  }
  if (!row) return; // a ticket older than the loaded page
  applyChange(row, ev);
  renderList();
}

// applyChange applies a ticket event to a row or to the open ticket: both
// hold the same members.
function applyChange(t, ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case "ticket.status_changed":
    case "ticket.reopened":
      t.status = d.to;
      if (d.kind) t.status_kind = d.kind;
      break;
    case "ticket.priority_changed":
      t.priority = d.to;
      break;
    case "ticket.assigned":
      t.assignee = d.assignee || null;
      break;
    case "ticket.unassigned":
      t.assignee = null;
      break;
    case "ticket.content_edited":
      if (d.title) t.title = d.title;
      if (typeof d.description === "string" && "description" in t) t.description = d.description;
      break;
    default:
  }
}

function compareRows(a, b) {
  return (KIND_RANK[a.status_kind] ?? 9) - (KIND_RANK[b.status_kind] ?? 9)
    || (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9)
    || b.number - a.number;
}

function renderList() {
  const list = $("tickets");
  const focused = document.activeElement && document.activeElement.closest("#tickets [data-ticket]");
  const focusedID = focused ? focused.dataset.ticket : null;
  const filter = $("list-filter").value;
  const rows = [...state.tickets.values()].filter((r) => {
    if (filter === "") return true;
    if (filter === "unassigned") return !r.assignee;
    return r.assignee && r.assignee.kind === "agent" && r.assignee.id === filter;
  }).sort(compareRows);
  list.replaceChildren(...rows.map((r) => {
    const b = el("button", {
      type: "button", dataset: { ticket: r.id, status: r.status, priority: r.priority },
      "aria-current": state.open && state.open.id === r.id ? "true" : "false",
    },
    el("span", { class: "title" }, `${r.key} ${r.title}`),
    el("span", { class: "badges" },
      el("span", { class: `badge kind-${r.status_kind}` }, statusDisplay(r.status)),
      el("span", { class: `badge priority-${r.priority}` }, priorityDisplay(r.priority)),
      el("span", { class: "badge assignee" }, r.assignee ? actorName(r.assignee) : "Unassigned")));
    b.addEventListener("click", () => { location.hash = "#/tickets/" + r.id; });
    return el("li", {}, b);
  }));
  $("ticket-count").textContent = `(${rows.length} of ${state.tickets.size})`;
  if (focusedID) {
    const again = list.querySelector(`[data-ticket="${CSS.escape(focusedID)}"]`);
    if (again) again.focus();
  }
}

// --- the open ticket ---------------------------------------------------

function route() {
  const m = /^#\/tickets\/([A-Za-z0-9-]+)$/.exec(location.hash);
  if (!state.api) return;
  if (m) {
    if (!state.open || state.open.id !== m[1]) openTicket(m[1]);
  } else if (state.open && (location.hash === "" || location.hash === "#/")) {
    closeTicket(); // other fragments (the skip link's) leave the ticket open
  }
}

function closeTicket() {
  const o = state.open;
  if (!o) return;
  clearTimeout(o.typingTimer);
  if (state.stream) {
    state.stream.presence("ticket:" + o.id, "idle");
    state.stream.unsubscribe("ticket:" + o.id);
    state.stream.unsubscribe("video-room:" + o.id);
  }
  state.open = null;
  $("ticket").hidden = true;
  $("ticket-empty").hidden = false;
  $("ticket-empty").textContent = "Choose a ticket from the list.";
  $("ticket-h").textContent = "No ticket open";
  renderList();
}

async function openTicket(id) {
  closeTicket();
  const o = { id, ticket: null, version: 0, entries: new Set(), dirty: new Set(), typingTimer: null, videoSub: null, participants: new Map() };
  state.open = o;
  $("ticket-h").textContent = "Loading…";
  $("ticket-empty").hidden = true;
  $("timeline").replaceChildren();
  $("presence").replaceChildren();
  report("controls-error");
  report("reply-error");
  report("video-error");
  let ticket, events;
  try {
    const [t, e] = await Promise.all([
      state.api.get("/v1/tickets/" + encodeURIComponent(id)),
      state.api.get("/v1/tickets/" + encodeURIComponent(id) + "/events"),
    ]);
    ticket = t.body;
    events = e.body.events;
  } catch (err) {
    if (state.open !== o) return;
    $("ticket-h").textContent = "Ticket not available";
    $("ticket-empty").hidden = false;
    $("ticket-empty").textContent = err.message;
    return;
  }
  if (state.open !== o) return; // another ticket was opened meanwhile
  o.id = ticket.id;
  o.ticket = ticket;
  o.version = ticket.version;
  $("ticket").hidden = false;
  renderHeader();
  renderControls();
  let last = "0-0";
  for (const ev of events) {
    addEntry(ev);
    last = ev.position;
  }
  const topic = "ticket:" + o.id;
  state.stream.subscribe(topic, last, {
    onEvent: (ev) => onTicketEvent(o, ev),
    onPresence: (members) => renderPresence(members),
    onError: (msg) => { if (state.open === o) report("controls-error", new Error(`Live updates for this ticket stopped: ${msg.message || msg.code}`)); },
  });
  state.stream.presence(topic, "viewing");
  followVideo(o.id);
  renderList();
  $("ticket-h").focus();
}

function onTicketEvent(o, ev) {
  if (state.open !== o || ev.stream_type !== "ticket" || ev.stream_id !== o.id) return;
  addEntry(ev);
  if (ev.version > o.version) o.version = ev.version;
  applyChange(o.ticket, ev);
  renderHeader();
  renderControls();
}

function renderHeader() {
  const t = state.open.ticket;
  $("ticket-h").textContent = `${t.key} ${t.title}`;
  $("ticket-meta").textContent = [
    statusDisplay(t.status), priorityDisplay(t.priority),
    t.assignee ? "assigned to " + actorName(t.assignee) : "unassigned",
    "opened by " + actorName(t.created_by),
  ].join(" · ");
}

// addEntry puts one event on the timeline, once: an event id already
// shown is ignored, whichever way it came.
function addEntry(ev) {
  const o = state.open;
  if (o.entries.has(ev.id)) return;
  o.entries.add(ev.id);
  const d = ev.data || {};
  const when = el("time", { class: "when", datetime: ev.recorded_at }, new Date(ev.recorded_at).toLocaleString());
  let li;
  switch (ev.type) {
    case "ticket.history_logged": {
      const internal = d.visibility === "internal";
      const v = d.value || {};
      const text = typeof v.text === "string" ? v.text : JSON.stringify(v);
      li = el("li", { class: `entry comment${internal ? " internal" : ""}` },
        el("span", { class: "who" }, byOf(ev)),
        el("span", { class: "what" }, d.type === "comment" ? " commented" : ` logged a ${d.type}`),
        internal ? el("span", { class: "tag" }, "internal") : null,
        when, el("p", { class: "text" }, text));
      break;
    }
    case "ticket.activity_added":
      li = el("li", { class: "entry comment" },
        el("span", { class: "who" }, byOf(ev)),
        el("span", { class: "what" }, d.direction === "INBOUND" ? " received a message" : " sent a message"),
        when, el("p", { class: "text" }, d.text || ""));
      break;
    default:
      li = el("li", { class: "entry change" }, el("span", { class: "who" }, byOf(ev)), " ", describe(ev), when);
  }
  li.dataset.eventId = ev.id;
  li.dataset.position = ev.position;
  li.dataset.type = ev.type;
  $("timeline").append(li);
}

function describe(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case "ticket.created": return `opened the ticket: ${d.title}`;
    case "ticket.status_changed": return `changed the status from ${statusDisplay(d.from)} to ${statusDisplay(d.to)}`;
    case "ticket.reopened": return `reopened the ticket (${statusDisplay(d.to)})`;
    case "ticket.priority_changed": return `changed the priority from ${priorityDisplay(d.from)} to ${priorityDisplay(d.to)}`;
    case "ticket.assigned": return `assigned the ticket to ${actorName(d.assignee)}`;
    case "ticket.unassigned": return "unassigned the ticket";
    case "ticket.content_edited": return "edited the ticket";
    case "ticket.tagged": return `tagged it ${(d.tags || []).join(", ")}`;
    case "ticket.untagged": return `removed the tags ${(d.tags || []).join(", ")}`;
    case "ticket.categorized": return `categorized it as ${d.category || "nothing"}`;
    case "ticket.attachment_added": return "attached a file";
    case "ticket.feedback_submitted": return `rated it ${d.rating}/5`;
    case "ticket.customer_linked": return "linked the customer";
    default: return ev.type.replace(/^ticket\./, "").replaceAll("_", " ");
  }
}

function memberName(m) {
  if (typeof m === "string") return state.agents.has(m) ? state.agents.get(m).name : m;
  const id = m.agent_id || (m.agent && m.agent.id) || m.id;
  return m.name || (m.agent && m.agent.name) || (id && state.agents.has(id) && state.agents.get(id).name) || m.email || id || "someone";
}

// renderPresence shows who is viewing or typing; idle members (still
// connected, gone from the ticket) are not here.
function renderPresence(members) {
  const here = members.filter((m) => !m || typeof m !== "object" || m.state !== "idle");
  $("presence").replaceChildren(...here.map((m) => {
    const s = (m && m.state) || "viewing";
    return el("li", { class: `member ${s}`, dataset: { state: s } }, `${memberName(m)} — ${s === "typing" ? "typing…" : s}`);
  }));
}

// --- controls ----------------------------------------------------------

function renderControls() {
  const t = state.open.ticket;
  const closed = t.status_kind === "closed";
  fill($("status"), state.config.statuses.map((s) => [s.key, s.display]), t.status);
  fill($("priority"), state.config.priorities.map((p) => [p.key, p.display]), t.priority);
  renderAssignees();
  $("status").disabled = closed;
  $("reopen").hidden = !closed;
}

// renderFilter lists the agents a list can be narrowed to, keeping the
// choice.
function renderFilter() {
  const f = $("list-filter");
  const keep = f.value;
  const agents = [...state.agents.values()].filter((a) => a.active !== false)
    .map((a) => el("option", { value: a.id }, "Assigned to " + a.name));
  f.replaceChildren(el("option", { value: "" }, "Every ticket"), el("option", { value: "unassigned" }, "Unassigned"), ...agents);
  f.value = keep;
  if (f.value !== keep) f.value = "";
}

function renderAssignees() {
  const t = state.open && state.open.ticket;
  if (!t) return;
  const opts = [["", "Unassigned"], ...[...state.agents.values()].filter((a) => a.active !== false).map((a) => [a.id, a.name])];
  fill($("assignee"), opts, t.assignee && t.assignee.kind === "agent" ? t.assignee.id : "");
}

// fill replaces a select's options, keeping a value the agent has chosen
// but not applied yet.
function fill(select, options, current) {
  const keep = state.open.dirty.has(select.id) ? select.value : current;
  select.replaceChildren(...options.map(([v, text]) => el("option", { value: v }, text)));
  select.value = keep;
}

async function applyControls(e) {
  e.preventDefault();
  const o = state.open;
  const t = o.ticket;
  const body = {};
  if ($("status").value !== t.status && !$("status").disabled) body.status = $("status").value;
  if ($("priority").value !== t.priority) body.priority = $("priority").value;
  const who = $("assignee").value;
  const was = t.assignee && t.assignee.kind === "agent" ? t.assignee.id : "";
  if (who !== was) body.assignee = who ? { id: who, kind: "agent" } : null;
  report("controls-error");
  if (Object.keys(body).length === 0) return;
  try {
    const res = await state.api.patch("/v1/tickets/" + o.id, body, { "If-Match": `"${o.version}"` });
    if (state.open !== o) return;
    o.dirty.clear();
    o.ticket = res.body;
    o.version = Math.max(o.version, res.body.version);
    renderHeader();
    renderControls();
  } catch (err) {
    if (err instanceof APIError && (err.status === 412 || err.status === 409)) {
      report("controls-error", new Error("Someone changed the ticket meanwhile; check it and apply again."));
    } else {
      report("controls-error", err);
    }
  }
}

async function reopen() {
  const o = state.open;
  try {
    const res = await state.api.post("/v1/tickets/" + o.id + "/reopen", {});
    if (state.open !== o) return;
    o.ticket = res.body;
    o.version = Math.max(o.version, res.body.version);
    renderHeader();
    renderControls();
    $("status").focus();
  } catch (err) {
    report("controls-error", err);
  }
}

// --- replies and typing --------------------------------------------------

function typing() {
  const o = state.open;
  if (!o) return;
  const topic = "ticket:" + o.id;
  if (state.stream.presences.get(topic) !== "typing") state.stream.presence(topic, "typing");
  clearTimeout(o.typingTimer);
  o.typingTimer = setTimeout(() => { if (state.open === o) state.stream.presence(topic, "viewing"); }, 4000);
}

async function sendReply(e) {
  e.preventDefault();
  const o = state.open;
  const text = $("reply-text").value.trim();
  if (!text) return;
  const visibility = document.querySelector('input[name="visibility"]:checked').value;
  report("reply-error");
  try {
    await state.api.post(`/v1/tickets/${o.id}/history`, { type: "comment", value: { text }, visibility });
    // The entry arrives over the stream like everybody else's.
    $("reply-text").value = "";
    clearTimeout(o.typingTimer);
    if (state.open === o) state.stream.presence("ticket:" + o.id, "viewing");
  } catch (err) {
    report("reply-error", err);
  }
}

// --- the video room ------------------------------------------------------

// followVideo replays the room's own stream from its start: the room's
// state and its participants are what its events say.
function followVideo(id) {
  const o = state.open;
  renderVideo(o);
  o.videoSub = state.stream.subscribe("video-room:" + id, "0-0", {
    onEvent: (ev) => {
      if (state.open !== o || ev.stream_type !== "video_room") return;
      const d = ev.data || {};
      switch (ev.type) {
        case "video_room.opened": o.room = "open"; o.participants.clear(); break;
        case "video_room.closed": o.room = "closed"; o.participants.clear(); break;
        case "video_room.participant_joined": o.participants.set(d.identity, d.user || null); break;
        case "video_room.participant_left": o.participants.delete(d.identity); break;
        default:
      }
      renderVideo(o);
    },
    onError: (msg) => {
      if (state.open !== o) return;
      o.videoSub = null; // no room yet: the tenant feed tells when one opens
      if (msg.code !== "not_found") report("video-error", new Error(msg.message || msg.code));
      renderVideo(o);
    },
  });
}

function renderVideo(o) {
  const status = o.room === "open" ? `Open · ${o.participants.size} connected`
    : o.room === "closed" ? "Closed." : "No video room.";
  $("video-status").textContent = status;
  $("video-open").hidden = o.room === "open";
  $("participants").replaceChildren(...[...o.participants].map(([identity, user]) =>
    el("li", { dataset: { identity } }, user ? `${actorName(user)} (${identity})` : identity)));
}

async function openVideo() {
  const o = state.open;
  report("video-error");
  try {
    await state.api.post(`/v1/tickets/${o.id}/video-room`, {});
    if (state.open === o && !o.videoSub) followVideo(o.id);
  } catch (err) {
    report("video-error", err);
  }
}

// --- wiring ------------------------------------------------------------

function main() {
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    report("signin-error");
    try {
      await signIn($("token").value.trim());
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      report("signin-error", err instanceof APIError && err.status === 401 ? new Error("That token was not accepted.") : err);
    }
  });
  $("signout").addEventListener("click", () => signOut());
  $("controls").addEventListener("submit", applyControls);
  for (const id of ["status", "priority", "assignee"]) {
    $(id).addEventListener("change", () => state.open && state.open.dirty.add(id));
  }
  $("reopen").addEventListener("click", reopen);
  $("reply").addEventListener("submit", sendReply);
  $("reply-text").addEventListener("input", typing);
  $("reply-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("reply").requestSubmit();
  });
  $("video-open").addEventListener("click", openVideo);
  $("list-filter").addEventListener("change", renderList);
  window.addEventListener("hashchange", route);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved).catch(() => signOut("Sign in again."));
  } else {
    showConnection("signed-out");
    $("token").focus();
  }
}

main();
