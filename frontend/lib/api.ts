// Every call to the API goes through `api`: it adds the access token,
// refreshes it shortly before it expires or when a call answers 401 (one
// refresh at a time, shared by concurrent calls), and turns refusals into
// `ApiError` with the field the server named.

import { clearSession, readSession, storeSession, type StoredSession } from "./session";
import type { ApiErrorBody, Session } from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.field = body.field;
  }
}

/** Refresh this long before the access token runs out. */
const EARLY_REFRESH_MS = 30_000;

let refreshing: Promise<StoredSession | null> | null = null;
let expiredFlag = false;

/** Whether the session ended because it could not be renewed (rather than
 * by signing out); reading it clears it. */
export function takeExpired(): boolean {
  const was = expiredFlag;
  expiredFlag = false;
  return was;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** false for sign-up / sign-in / refresh / sign-out. */
  auth?: boolean;
  signal?: AbortSignal;
}

export async function api<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const auth = opts.auth ?? true;
  let session = auth ? await freshSession() : null;
  if (auth && !session) throw expired();
  let res = await send(method, path, opts, session);
  if (auth && res.status === 401) {
    session = await refresh(session);
    if (!session) throw expired();
    res = await send(method, path, opts, session);
    if (res.status === 401) {
      expireSession();
      throw expired();
    }
  }
  return parse<T>(res);
}

async function send(
  method: string,
  path: string,
  opts: CallOptions,
  session: StoredSession | null,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (session) headers.Authorization = `Bearer ${session.accessToken}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, { code: "network", message: "The server cannot be reached." });
  }
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (res.ok) return body as T;
  const err = (body as { error?: ApiErrorBody } | null)?.error;
  throw new ApiError(
    res.status,
    err ?? { code: `http_${res.status}`, message: `The server answered ${res.status}.` },
  );
}

function expired(): ApiError {
  return new ApiError(401, { code: "session_expired", message: "Your session has expired." });
}

/** The session, refreshed first when its access token is about to expire. */
export async function freshSession(): Promise<StoredSession | null> {
  const s = readSession();
  if (!s) return null;
  if (s.expiresAt - Date.now() > EARLY_REFRESH_MS) return s;
  return refresh(s);
}

/** Exchanges the refresh token (in the HttpOnly cookie) once, however many
 * calls ask at the same time. A refresh token works once, and the server
 * ends the whole session when a rotated one comes back (the sign of a
 * stolen copy), so the tabs of this browser take turns under one lock: a
 * tab that finds the session renewed by another while it waited takes
 * that tab's stored session. */
export function refresh(used: StoredSession | null): Promise<StoredSession | null> {
  if (!refreshing) {
    refreshing = acrossTabs(() => doRefresh(used)).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

const REFRESH_LOCK = "todo.session.refresh";

/** Runs `f` holding the origin-wide refresh lock (Web Locks; without them,
 * in an insecure context, `f` runs alone in this tab only). */
async function acrossTabs<T>(f: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  if (!locks) return f();
  // The lock is held until the promise `f` returns settles.
  return await locks.request(REFRESH_LOCK, f);
}

async function doRefresh(used: StoredSession | null): Promise<StoredSession | null> {
  const current = readSession();
  if (!current) return null;
  if (used && renewed(current, used)) return current;
  let res: Response;
  try {
    res = await fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(tokenBody(current)),
    });
  } catch {
    throw new ApiError(0, { code: "network", message: "The server cannot be reached." });
  }
  if (res.ok) return storeSession((await res.json()) as Session);
  if (res.status === 409) {
    // Another tab renewed it a moment ago and its newer session has not
    // reached this tab's storage yet: wait for it, then use it.
    const newer = await newerSession(current);
    if (newer) return newer;
    expireSession();
    return null;
  }
  const again = readSession();
  if (again && renewed(again, current)) return again;
  // 422: no refresh token at all (the cookie is gone: signed out elsewhere).
  if (res.status === 401 || res.status === 400 || res.status === 422) {
    expireSession();
    return null;
  }
  return parse<never>(res);
}

/** What refresh and sign-out send: the cookie carries the token, and the
 * next one goes there too; a session stored before the cookie held it
 * hands its token over once. */
function tokenBody(s: StoredSession | null): Record<string, string> {
  const body: Record<string, string> = { refresh_token_delivery: "cookie" };
  if (s?.refreshToken) body.refresh_token = s.refreshToken;
  return body;
}

/** Whether `s` was stored by a renewal after `than` (two access tokens
 * issued within one second can be equal; each renewal stores a new expiry). */
function renewed(s: StoredSession, than: StoredSession): boolean {
  return s.accessToken !== than.accessToken || s.expiresAt !== than.expiresAt;
}

/** The stored session once another tab renewed `spent`, or null if none
 * arrives within a few seconds. */
async function newerSession(spent: StoredSession): Promise<StoredSession | null> {
  for (let i = 0; i < 50; i++) {
    const s = readSession();
    if (s && renewed(s, spent)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

function expireSession() {
  // Clearing the session sends the app shell to sign-in, drafts kept.
  expiredFlag = true;
  clearSession();
}

export async function signIn(email: string, password: string): Promise<StoredSession> {
  const s = await api<Session>("POST", "/api/auth/signin", {
    body: { email, password, refresh_token_delivery: "cookie" },
    auth: false,
  });
  return storeSession(s);
}

export async function signUp(
  email: string,
  password: string,
  name: string,
  timeZone: string,
): Promise<StoredSession> {
  const s = await api<Session>("POST", "/api/auth/signup", {
    body: { email, password, name, time_zone: timeZone, refresh_token_delivery: "cookie" },
    auth: false,
  });
  return storeSession(s);
}

export async function signOut(): Promise<void> {
  const s = readSession();
  clearSession();
  if (s) {
    await api("POST", "/api/auth/signout", { body: tokenBody(s), auth: false }).catch(() => undefined);
  }
}

/** A key for POSTs that must act once even when retried. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}
