// The HTTP API client: bearer token, JSON, and one error type for every failure.

export class ApiError extends Error {
  /** status 0 means the server could not be reached. */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * tokenPrefix: "Bearer " for local mode's gateway; API Gateway's Cognito authorizer takes the ID token
 * itself as the Authorization header (its documented form), so a deployment passes "".
 */
export function createApi({ baseUrl, getToken, onUnauthorized, tokenPrefix = "Bearer " }) {
  const base = String(baseUrl ?? "").replace(/\/+$/, "");

  async function request(method, path, { params = {}, body, headers: extra = {} } = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
    }
    const search = query.toString();
    const url = `${base}${path}${search ? `?${search}` : ""}`;
    const headers = { Accept: "application/json", ...extra };
    const token = getToken();
    if (token) headers.Authorization = `${tokenPrefix}${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";

    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok) {
      const error = answer?.error ?? {};
      const failure = new ApiError(
        response.status,
        String(error.code ?? `http_${response.status}`),
        String(error.message ?? response.statusText ?? "The request failed."),
      );
      if (response.status === 401) onUnauthorized?.(failure);
      throw failure;
    }
    return answer;
  }

  const get = (path, params) => request("GET", path, { params });

  /** Path segment of an id, encoded. */
  const seg = (value) => encodeURIComponent(String(value));

  return {
    listMessages: ({ kind, cursor, limit = 20 } = {}) => get("/messages", { kind, cursor, limit }),
    getMessage: (messageId) => get(`/messages/${seg(messageId)}`),
    listRecipients: (messageId, { status, cursor, limit = 50 } = {}) =>
      get(`/messages/${seg(messageId)}/recipients`, { status, cursor, limit }),
    listEvents: (messageId, recipientId, { cursor, limit = 100 } = {}) =>
      get(`/messages/${seg(messageId)}/recipients/${seg(recipientId)}/events`, { cursor, limit }),
    invoiceLogs: (invoiceId, { cursor, limit = 100 } = {}) =>
      get(`/invoices/${seg(invoiceId)}/logs`, { cursor, limit }),
    customerMessages: (customerId, { kind, cursor, limit = 20 } = {}) =>
      get(`/customers/${seg(customerId)}/messages`, { kind, cursor, limit }),
    attention: ({ kind, cursor, limit = 20 } = {}) => get("/attention", { kind, cursor, limit }),
    attentionCount: ({ kind } = {}) => get("/attention/count", { kind }),
    stats: ({ from, to, kind, granularity } = {}) => get("/stats", { from, to, kind, granularity }),
    statsHealth: () => get("/stats/health"),
    /** idempotencyKey: one per click, so a retried request sends nothing new (the API's idempotency). */
    resend: (messageId, recipientId, { email, idempotencyKey } = {}) =>
      request("POST", `/messages/${seg(messageId)}/recipients/${seg(recipientId)}/resend`, {
        body: email ? { email } : {},
        headers: idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {},
      }),
    dismiss: (messageId, recipientId) =>
      request("POST", `/messages/${seg(messageId)}/recipients/${seg(recipientId)}/dismiss`),
  };
}
