"use client";

// A task's history from the audit trail, with the verification of the
// user's hash chain (a tampered entry shows where the chain breaks).

import { useCallback, useEffect, useState } from "react";
import Link from "next/link";
import { ApiError, api } from "@/lib/api";
import { eventInWords, formatDue, formatInstant } from "@/lib/format";
import type { AuditEntry, Task, Verification } from "@/lib/types";
import { useLive, useSignedIn } from "./AppShell";

function details(entry: AuditEntry): string {
  const d = entry.event.data as Record<string, unknown>;
  if (Array.isArray(d.changed_fields)) return `Changed: ${(d.changed_fields as string[]).join(", ")}`;
  if (typeof d.device === "string") return `On device ${d.device}`;
  if (typeof d.reason === "string") return `Reason: ${d.reason}`;
  if (typeof d.at === "string") return `For ${formatInstant(d.at)}`;
  return "";
}

export default function HistoryView({ taskId }: { taskId: string }) {
  const session = useSignedIn();
  const live = useLive();
  const [task, setTask] = useState<Task | null | "gone">(null);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [verification, setVerification] = useState<Verification | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [t, page, v] = await Promise.all([
        api<Task>("GET", `/api/tasks/${encodeURIComponent(taskId)}`).catch((e) => {
          if (e instanceof ApiError && e.status === 404) return "gone" as const;
          throw e;
        }),
        api<{ entries: AuditEntry[] }>("GET", `/api/audit?task=${encodeURIComponent(taskId)}&limit=500`),
        api<Verification>("GET", "/api/audit/verify"),
      ]);
      setTask(t);
      setEntries(page.entries);
      setVerification(v);
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) setError(e.message);
    }
  }, [taskId]);

  useEffect(() => {
    void load();
  }, [load]);

  // The audit service records events a moment after they happen.
  const { subscribe } = live;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = subscribe(() => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void load(), 500);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe, load]);

  const title = task && task !== "gone" ? task.title : "Deleted task";
  return (
    <div className="panel">
      <p>
        <Link href="/">← Back to tasks</Link>
      </p>
      <h1>History of “{title}”</h1>
      {task && task !== "gone" && (
        <p className="hint">
          {task.status === "completed" ? "Completed" : "Open"}
          {task.due ? ` · due ${formatDue(task.due, session.user.time_zone)}` : ""}
          {task.recurrence ? ` · ${task.recurrence.text}` : ""}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {verification && (
        <p className={`verify ${verification.ok ? "ok" : "broken"}`} role="status" data-testid="verification">
          {verification.ok
            ? `✓ Your audit chain is intact (${verification.length} entries verified).`
            : `✗ Your audit chain is broken at entry ${verification.broken_at}: ${verification.reason ?? "hash mismatch"}.`}
        </p>
      )}
      {entries === null ? (
        <p aria-busy="true">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="empty">No history recorded for this task.</p>
      ) : (
        <ol className="history" aria-label="Events">
          {entries.map((e) => (
            <li key={e.seq} data-testid="history-entry" data-type={e.event.type}>
              <strong>{eventInWords(e.event.type)}</strong> · {formatInstant(e.event.time ?? e.received_at, session.user.time_zone)}
              <div>{details(e)}</div>
              <code>
                #{e.seq} · {e.hash.slice(0, 16)}…
              </code>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
