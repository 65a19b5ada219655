// Sign-in. Local mode: a token for the demo tenant from the local gateway (`POST /local/token`).
// AWS: the Cognito hosted UI with the OAuth 2.0 authorization code flow and PKCE; the API takes the
// ID token (it carries the tenant claim). Tokens live in sessionStorage: one tab, gone on close.

const TOKEN_KEY = "tracker.token";
const SIGNED_OUT_KEY = "tracker.signedOut";
const PKCE_KEY = "tracker.pkce";

function base64Url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount) {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

/** The claims of a JWT, without verifying it (the API verifies; this only reads exp and the tenant). */
export function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
  } catch {
    return null;
  }
}

function expired(token) {
  const claims = tokenClaims(token);
  return typeof claims?.exp === "number" && claims.exp * 1000 <= Date.now() + 30_000;
}

export class Auth {
  constructor(config, storage = window.sessionStorage) {
    this.config = config;
    this.storage = storage;
    this.apiBase = String(config.apiUrl ?? "").replace(/\/+$/, "");
  }

  get local() {
    return this.config.mode === "local";
  }

  /** The stored token, unless it has expired. */
  token() {
    const token = this.storage.getItem(TOKEN_KEY);
    if (token && expired(token)) {
      this.storage.removeItem(TOKEN_KEY);
      return null;
    }
    return token;
  }

  tenant() {
    const token = this.token();
    const claims = token ? tokenClaims(token) : null;
    return claims?.["custom:tenant_id"] ?? null;
  }

  /** Forget the token (after a 401), but do not count it as the user signing out. */
  forget() {
    this.storage.removeItem(TOKEN_KEY);
  }

  /** Local mode signs in by itself unless the person signed out in this tab. */
  shouldSignInAutomatically() {
    return this.local && this.storage.getItem(SIGNED_OUT_KEY) !== "1";
  }

  /** Local mode: returns true when signed in. Cognito: navigates away to the hosted UI. */
  async signIn() {
    this.storage.removeItem(SIGNED_OUT_KEY);
    if (this.local) {
      const response = await fetch(`${this.apiBase}/local/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ tenant_id: this.config.localTenant ?? "demo" }),
      });
      if (!response.ok) throw new Error(`Local sign-in failed (HTTP ${response.status}).`);
      const { token } = await response.json();
      this.storage.setItem(TOKEN_KEY, token);
      return true;
    }
    const verifier = randomString(48);
    const state = randomString(24);
    const challenge = base64Url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    this.storage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: window.location.hash }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri(),
      scope: (this.config.scopes ?? ["openid", "email", "profile"]).join(" "),
      state,
      code_challenge_method: "S256",
      code_challenge: challenge,
    });
    window.location.assign(`${this.config.authDomain}/oauth2/authorize?${query}`);
    return false;
  }

  signOut() {
    this.storage.removeItem(TOKEN_KEY);
    this.storage.setItem(SIGNED_OUT_KEY, "1");
    if (!this.local) {
      const query = new URLSearchParams({ client_id: this.config.clientId, logout_uri: this.redirectUri() });
      window.location.assign(`${this.config.authDomain}/logout?${query}`);
    }
  }

  redirectUri() {
    return `${window.location.origin}/`;
  }

  /**
   * Back from the hosted UI with ?code=&state= (or ?error=): exchange the code for tokens.
   * Returns an error message to show, or null.
   */
  async completeRedirect() {
    if (this.local) return null;
    const params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return null;
    const saved = JSON.parse(this.storage.getItem(PKCE_KEY) ?? "null");
    this.storage.removeItem(PKCE_KEY);
    window.history.replaceState(null, "", `${window.location.pathname}${saved?.hash ?? ""}`);
    if (params.has("error")) return `Sign-in failed: ${params.get("error_description") ?? params.get("error")}`;
    if (!saved || saved.state !== params.get("state")) return "Sign-in failed: the response did not match the request. Try again.";
    const response = await fetch(`${this.config.authDomain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: this.config.clientId,
        code: params.get("code"),
        redirect_uri: this.redirectUri(),
        code_verifier: saved.verifier,
      }),
    });
    if (!response.ok) return `Sign-in failed (HTTP ${response.status}). Try again.`;
    const tokens = await response.json();
    if (!tokens.id_token) return "Sign-in failed: no ID token was returned.";
    this.storage.setItem(TOKEN_KEY, tokens.id_token);
    return null;
  }
}
