// stream.js: one websocket to GET /v1/stream (subprotocol eventdesk.v1)
// carrying every subscription of the console. A dropped socket is opened
// again, with a new one-time connect ticket, and every subscription is
// resumed after the last position it delivered; an event already
// delivered (same id, or a position not after the last) is never passed on
// twice.

// parsePosition turns "TXID-SEQ" into a pair of BigInts, or null.
export function parsePosition(p) {
  const m = /^([0-9]+)-([0-9]+)$/.exec(String(p));
  return m ? [BigInt(m[1]), BigInt(m[2])] : null;
}

// positionAfter reports whether position a comes after b in the log
// (ordered by transaction id, then sequence).
export function positionAfter(a, b) {
  const x = parsePosition(a), y = parsePosition(b);
  if (!x || !y) return true;
  return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
}

const PING_EVERY = 20000; // ms between pings
const SILENCE_LIMIT = 50000; // ms without any frame before the socket is given up
const MAX_BACKOFF = 5000;

// Stream multiplexes subscriptions over one resuming websocket.
// Callbacks: onState(state, detail) with state one of "connecting",
// "live", "reconnecting", "stopped"; onUnauthorized() when the token is
// refused.
export class Stream {
  constructor(api, { onState, onUnauthorized } = {}) {
    this.api = api;
    this.onState = onState || (() => {});
    this.onUnauthorized = onUnauthorized || (() => {});
    this.subs = new Map(); // topic -> subscription
    this.presences = new Map(); // topic -> state last announced
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.everLive = false;
    this.timer = null;
    this.pinger = null;
    this.lastFrame = 0;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000, "signed out");
      this.ws = null;
    }
    this.setState("stopped");
  }

  setState(state, detail = "") {
    this.state = state;
    this.onState(state, detail);
  }

  // subscribe follows topic: after is the position to resume after
  // (undefined: live from now). handlers: onEvent(event, position),
  // onSubscribed(position), onPresence(members), onError({code, message}).
  // The subscription survives reconnects until unsubscribe.
  subscribe(topic, after, handlers) {
    this.unsubscribe(topic);
    const sub = { topic, after, seen: new Set(), ...handlers };
    this.subs.set(topic, sub);
    this.sendSubscribe(sub);
    return sub;
  }

  unsubscribe(topic) {
    if (!this.subs.has(topic)) return;
    this.subs.delete(topic);
    this.presences.delete(topic);
    this.send({ type: "unsubscribe", topic });
  }

  // presence announces this agent's state on a ticket topic; it is
  // announced again after every reconnect (the server keeps it alive
  // meanwhile, and lets it expire when the socket goes).
  presence(topic, state) {
    if (state === "idle") this.presences.delete(topic);
    else this.presences.set(topic, state);
    this.send({ type: "presence", topic, state });
  }

  sendSubscribe(sub) {
    const msg = { type: "subscribe", topic: sub.topic };
    if (sub.after !== undefined && sub.after !== null) msg.after = sub.after;
    this.send(msg);
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  async connect() {
    if (this.stopped) return;
    this.setState(this.everLive ? "reconnecting" : "connecting");
    let ticket;
    try {
      const res = await this.api.post("/v1/stream/tickets");
      ticket = res.body && res.body.ticket;
      if (!ticket) throw new Error("no connect ticket in the answer");
    } catch (err) {
      if (err && err.status === 401) {
        this.onUnauthorized();
        return;
      }
      this.retry(err && err.message);
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}/v1/stream?ticket=${encodeURIComponent(ticket)}`;
    let ws;
    try {
      ws = new WebSocket(url, "eventdesk.v1");
    } catch (err) {
      this.retry(err && err.message);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.everLive = true;
      this.lastFrame = Date.now();
      this.setState("live");
      this.resume();
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.tick(), PING_EVERY);
    };
    ws.onmessage = (m) => {
      this.lastFrame = Date.now();
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      this.dispatch(msg);
    };
    ws.onclose = (e) => {
      clearInterval(this.pinger);
      if (this.ws === ws) this.ws = null;
      this.retry(e.code ? `closed (${e.code}${e.reason ? " " + e.reason : ""})` : "closed");
    };
    ws.onerror = () => {}; // onclose follows and retries
  }

  // resume subscribes on a new socket to every topic, after the last
  // position each delivered, and announces presence again.
  resume() {
    for (const sub of this.subs.values()) {
      sub.acked = false;
      this.sendSubscribe(sub);
    }
    for (const [topic, state] of this.presences) this.send({ type: "presence", topic, state });
  }

  tick() {
    if (Date.now() - this.lastFrame > SILENCE_LIMIT && this.ws) {
      this.ws.close(4000, "no answer to pings");
      return;
    }
    this.send({ type: "ping" });
  }

  retry(detail) {
    if (this.stopped) return;
    this.setState(this.everLive ? "reconnecting" : "connecting", detail || "");
    const base = Math.min(MAX_BACKOFF, 250 * 2 ** this.attempt);
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * (base / 2));
  }

  dispatch(msg) {
    const sub = msg.topic ? this.subs.get(msg.topic) : undefined;
    switch (msg.type) {
      case "subscribed":
        if (!sub) return;
        sub.acked = true;
        if (sub.after === undefined || sub.after === null) sub.after = msg.position;
        if (sub.onSubscribed) sub.onSubscribed(msg.position);
        return;
      case "event": {
        if (!sub || !msg.event) return;
        const id = msg.event.id;
        if (sub.seen.has(id)) return;
        if (sub.after && msg.position && !positionAfter(msg.position, sub.after)) return;
        sub.seen.add(id);
        if (msg.position) sub.after = msg.position;
        if (sub.onEvent) sub.onEvent(msg.event, msg.position);
        return;
      }
      case "presence":
        if (sub && sub.onPresence) sub.onPresence(Array.isArray(msg.members) ? msg.members : []);
        return;
      case "error":
        // Before "subscribed", an error refuses the subscription (unknown
        // topic, not_found, a bad after): the server holds none. After it,
        // internal and unavailable end the subscription, which is resumed
        // after its last position; anything else is about another message
        // on the topic (a presence report) and the subscription stands.
        if (!sub) return;
        if (!sub.acked) {
          this.subs.delete(msg.topic);
          if (sub.onError) sub.onError(msg);
        } else if (msg.code === "internal" || msg.code === "unavailable") {
          sub.acked = false;
          setTimeout(() => { if (this.subs.get(sub.topic) === sub) this.sendSubscribe(sub); }, 1000);
        }
        return;
      default: // pong and anything newer: nothing to do
    }
  }
}
