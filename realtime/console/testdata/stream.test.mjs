// The stream module's bookkeeping, without a browser or a server: what it
// passes on, what it drops as already seen, and where each subscription
// resumes. realtime/console's Go tests run it with `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Stream, positionAfter } from "../static/stream.js";

// A stream whose socket is a recorder, as if connected.
function connected() {
  globalThis.WebSocket = { OPEN: 1 };
  const s = new Stream(null);
  const sent = [];
  s.ws = { readyState: 1, send: (m) => sent.push(JSON.parse(m)) };
  return { s, sent };
}

const ev = (id, position) => ({ type: "event", topic: "ticket:1", position, event: { id, position } });

test("positions order by transaction id, then sequence", () => {
  assert.equal(positionAfter("10-5", "9-99"), true);
  assert.equal(positionAfter("10-5", "10-4"), true);
  assert.equal(positionAfter("10-5", "10-5"), false);
  assert.equal(positionAfter("9-99", "10-1"), false);
  assert.equal(positionAfter("18446744073709551615-2", "18446744073709551615-1"), true); // beyond 2^53
});

test("an event is passed on once, and never one from before the last position", () => {
  const { s, sent } = connected();
  const got = [];
  s.subscribe("ticket:1", "10-1", { onEvent: (e) => got.push(e.id) });
  assert.deepEqual(sent, [{ type: "subscribe", topic: "ticket:1", after: "10-1" }]);
  s.dispatch({ type: "subscribed", topic: "ticket:1", position: "10-1" });
  for (const m of [ev("a", "10-2"), ev("a", "10-2"), ev("old", "10-1"), ev("b", "11-3"), ev("c", "11-2")]) s.dispatch(m);
  assert.deepEqual(got, ["a", "b"]);
  assert.equal(s.subs.get("ticket:1").after, "11-3");
});

test("a reconnect resumes every subscription after its last position", () => {
  const { s, sent } = connected();
  s.subscribe("ticket:1", "0-0", { onEvent: () => {} });
  s.subscribe("tenant", undefined, { onEvent: () => {} });
  s.dispatch({ type: "subscribed", topic: "tenant", position: "7-1" });
  s.dispatch(ev("a", "8-2"));
  s.presence("ticket:1", "typing");
  sent.length = 0;
  const opened = [];
  s.ws = { readyState: 1, send: (m) => opened.push(JSON.parse(m)) }; // a new socket
  s.resume();
  assert.deepEqual(opened, [
    { type: "subscribe", topic: "ticket:1", after: "8-2" },
    { type: "subscribe", topic: "tenant", after: "7-1" },
    { type: "presence", topic: "ticket:1", state: "typing" },
  ]);
});

test("an error refuses a subscription only before it is acknowledged", () => {
  const { s } = connected();
  const errors = [];
  s.subscribe("video-room:x", "0-0", { onError: (m) => errors.push(m.code) });
  s.dispatch({ type: "error", topic: "video-room:x", code: "not_found", message: "no such topic" });
  assert.equal(s.subs.has("video-room:x"), false);
  assert.deepEqual(errors, ["not_found"]);

  s.subscribe("ticket:1", "0-0", { onError: (m) => errors.push(m.code) });
  s.dispatch({ type: "subscribed", topic: "ticket:1", position: "0-0" });
  s.dispatch({ type: "error", topic: "ticket:1", code: "invalid_presence", message: "…" });
  assert.equal(s.subs.has("ticket:1"), true, "a refused presence report does not end the subscription");
  assert.deepEqual(errors, ["not_found"]);
});
