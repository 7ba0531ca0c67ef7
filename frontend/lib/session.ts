// The signed-in session, kept in localStorage so it survives a reload and
// is shared by the tabs of one browser. The refresh token is not in it: the
// server keeps that in an HttpOnly cookie sent only to /api/auth/, out of
// reach of any script on the page. Components subscribe through
// `useSession` (useSyncExternalStore); another tab's sign-in, refresh or
// sign-out reaches them through the `storage` event.

import { useSyncExternalStore } from "react";
import type { Session, User } from "./types";

const KEY = "todo.session";

export interface StoredSession {
  user: User;
  accessToken: string;
  /** Only in a session stored before the cookie held it: handed to the
   * server once, at the next refresh, and gone after. */
  refreshToken?: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
}

const listeners = new Set<() => void>();
let cached: { raw: string | null; value: StoredSession | null } = { raw: null, value: null };

function storage(): Storage | null {
  return typeof window === "undefined" ? null : window.localStorage;
}

export function readSession(): StoredSession | null {
  const raw = storage()?.getItem(KEY) ?? null;
  if (raw === cached.raw) return cached.value;
  let value: StoredSession | null = null;
  try {
    value = raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    value = null;
  }
  cached = { raw, value };
  return value;
}

function notify() {
  for (const l of listeners) l();
}

export function storeSession(s: Session, now = Date.now()): StoredSession {
  const stored: StoredSession = {
    user: s.user,
    accessToken: s.access_token,
    refreshToken: s.refresh_token,
    expiresAt: now + s.expires_in * 1000,
  };
  storage()?.setItem(KEY, JSON.stringify(stored));
  notify();
  return stored;
}

export function updateUser(user: User) {
  const s = readSession();
  if (!s) return;
  storage()?.setItem(KEY, JSON.stringify({ ...s, user }));
  notify();
}

export function clearSession() {
  storage()?.removeItem(KEY);
  notify();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (e: StorageEvent) => {
    if (e.key === KEY || e.key === null) listener();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

/** The session, or null when signed out; `undefined` before hydration. */
export function useSession(): StoredSession | null | undefined {
  return useSyncExternalStore(subscribe, readSession, () => undefined);
}

/** A stable id for this browser, sent as the WebSocket's `device` so a
 * reminder acknowledged here is not shown here again. */
export function deviceId(): string {
  const s = storage();
  let id = s?.getItem("todo.device") ?? null;
  if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    id = `web-${crypto.randomUUID()}`;
    s?.setItem("todo.device", id);
  }
  return id;
}
