"use client";

// The frame of every signed-in screen: header, offline banner, toasts and
// the one real-time connection whose events the screens subscribe to.
// Signed out (or once the session cannot be renewed) it sends the person
// to sign-in, remembering where they were.

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { signOut, takeExpired } from "@/lib/api";
import { clearAllDrafts } from "@/lib/drafts";
import { Realtime, type Status } from "@/lib/realtime";
import { useSession, type StoredSession } from "@/lib/session";
import type { CloudEvent } from "@/lib/types";
import { ToastProvider, useToasts } from "./Toasts";

type Listener = (e: { kind: "event"; event: CloudEvent } | { kind: "resync" }) => void;

interface Live {
  status: Status;
  subscribe(l: Listener): () => void;
}

const LiveContext = createContext<Live>({ status: "connecting", subscribe: () => () => {} });
const SessionContext = createContext<StoredSession | null>(null);

export function useLive(): Live {
  return useContext(LiveContext);
}

/** The signed-in session (AppShell renders its children only when there is one). */
export function useSignedIn(): StoredSession {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSignedIn outside AppShell");
  return s;
}

export default function AppShell({ children }: { children: React.ReactNode }) {
  const session = useSession();
  const router = useRouter();
  const path = usePathname();

  useEffect(() => {
    if (session !== null) return;
    const here = window.location.pathname + window.location.search;
    const query = new URLSearchParams();
    if (takeExpired()) query.set("expired", "1");
    if (here !== "/") query.set("next", here);
    router.replace(query.size ? `/signin/?${query}` : "/signin/");
  }, [session, router, path]);

  if (!session) {
    return (
      <main aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <ToastProvider>
        <LiveProvider userId={session.user.id}>{children}</LiveProvider>
      </ToastProvider>
    </SessionContext.Provider>
  );
}

function LiveProvider({ userId, children }: { userId: string; children: React.ReactNode }) {
  const [status, setStatus] = useState<Status>("connecting");
  const listeners = useRef(new Set<Listener>());
  const toasts = useToasts();
  const realtime = useRef<Realtime | null>(null);
  const router = useRouter();
  const session = useSignedIn();

  useEffect(() => {
    const showReminder = (event: CloudEvent) => {
      const data = event.data as { title?: string; task_id?: string };
      toasts.push({
        id: `reminder-${event.id}`,
        kind: "reminder",
        message: `Reminder: ${data.title ?? "a task"}`,
        action: { label: "Acknowledge", run: () => realtime.current?.ack(event.id) },
      });
    };
    const rt = new Realtime({
      onEvent(event) {
        if (event.type === "com.todo.reminder.triggered.v1") showReminder(event);
        if (event.type === "com.todo.reminder.delivered.v1") {
          const d = event.data as { reminder_event_id?: string };
          if (d.reminder_event_id) toasts.dismiss(`reminder-${d.reminder_event_id}`);
        }
        listeners.current.forEach((l) => l({ kind: "event", event }));
      },
      onReminder: showReminder,
      onAcked(id) {
        toasts.dismiss(`reminder-${id}`);
      },
      onResync() {
        listeners.current.forEach((l) => l({ kind: "resync" }));
      },
      onStatus: setStatus,
    });
    realtime.current = rt;
    rt.start();
    return () => rt.stop();
  }, [userId, toasts]);

  // `subscribe` stays the same function for the connection's life, so a
  // status change does not drop a subscriber's pending work.
  const subscribe = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);
  const live = useMemo<Live>(() => ({ status, subscribe }), [status, subscribe]);

  return (
    <LiveContext.Provider value={live}>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="app-header">
        <Link className="brand" href="/">
          todo
        </Link>
        <nav aria-label="Main">
          <span className="status-dot" data-status={status} data-testid="connection">
            {status === "live" ? "Live" : status === "offline" ? "Offline" : "Connecting"}
          </span>
          <Link className="btn btn-small" href="/">
            Tasks
          </Link>
          <Link className="btn btn-small" href="/settings/">
            Settings
          </Link>
          <span className="hint" aria-label="Signed in as">
            {session.user.name || session.user.email}
          </span>
          <button
            type="button"
            className="btn btn-small"
            onClick={async () => {
              clearAllDrafts();
              await signOut();
              router.replace("/signin/");
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      {status === "offline" && (
        <div className="banner" role="alert">
          You are offline. Changes from your other devices will appear when the connection is back.
        </div>
      )}
      <main id="content">{children}</main>
    </LiveContext.Provider>
  );
}
