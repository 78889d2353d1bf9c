// api.js: the native REST API, with the agent's token on every request.

// APIError is a failed request: status is the HTTP status, code the
// problem's code (problem+json) when there is one.
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// newKey is an Idempotency-Key: a retried write is answered, not repeated.
export function newKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// API calls /v1 with Authorization: Bearer <token>. onUnauthorized runs on
// any 401, after which the call throws.
export class API {
  constructor(token, onUnauthorized) {
    this.token = token;
    this.onUnauthorized = onUnauthorized || (() => {});
  }

  // request sends method path with body as JSON and returns
  // {status, headers, body}; a non-2xx answer throws an APIError.
  async request(method, path, body, headers = {}) {
    const h = { Authorization: "Bearer " + this.token, Accept: "application/json", ...headers };
    const init = { method, headers: h, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && !h["Idempotency-Key"] && path !== "/v1/stream/tickets") {
      h["Idempotency-Key"] = newKey();
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text };
      }
    }
    if (res.status === 401) this.onUnauthorized();
    if (!res.ok) {
      const msg = (data && (data.detail || data.title || data.message)) || res.statusText || "request failed";
      throw new APIError(res.status, data && data.code, msg);
    }
    return { status: res.status, headers: res.headers, body: data };
  }

  get(path) { return this.request("GET", path); }
  post(path, body, headers) { return this.request("POST", path, body, headers); }
  patch(path, body, headers) { return this.request("PATCH", path, body, headers); }
}
