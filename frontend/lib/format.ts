// Dates, times and events in words for the screens.

import type { Due, Task } from "./types";

/** The due as the user reads it: "Fri 27 Nov, 14:30" in the due's zone,
 * with the zone named when it is not the viewer's. */
export function formatDue(due: Due, viewerZone: string): string {
  const [y, m, d] = due.date.split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d, 12));
  const date = day.toLocaleDateString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: y === new Date().getFullYear() ? undefined : "numeric",
    timeZone: "UTC",
  });
  const time = due.time ? `, ${due.time.slice(0, 5)}` : "";
  const zone = due.time_zone !== viewerZone ? ` (${due.time_zone})` : "";
  return `${date}${time}${zone}`;
}

export function isOverdue(task: Task, now = Date.now()): boolean {
  return task.status === "open" && task.due_at !== null && Date.parse(task.due_at) < now;
}

/** An instant in the viewer's zone: "27 Nov 2026, 14:30:05". */
export function formatInstant(iso: string, zone?: string): string {
  return new Date(iso).toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZone: zone,
  });
}

/** `2026-11-30T09:00:00` (an occurrence's local time) as "Mon 30 Nov 2026, 09:00". */
export function formatLocal(local: string): string {
  const [date, time] = local.split("T");
  const [y, m, d] = date.split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d, 12)).toLocaleDateString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
  return time ? `${day}, ${time.slice(0, 5)}` : day;
}

const EVENT_WORDS: Record<string, string> = {
  "com.todo.task.created.v1": "Created",
  "com.todo.task.updated.v1": "Changed",
  "com.todo.task.completed.v1": "Completed",
  "com.todo.task.uncompleted.v1": "Reopened",
  "com.todo.task.deleted.v1": "Deleted",
  "com.todo.reminder.scheduled.v1": "Reminder scheduled",
  "com.todo.reminder.cancelled.v1": "Reminder cancelled",
  "com.todo.reminder.triggered.v1": "Reminder fired",
  "com.todo.reminder.delivered.v1": "Reminder acknowledged",
  "com.todo.reminder.failed.v1": "Reminder not acknowledged",
  "com.todo.recurring.task-generated.v1": "Next occurrence created",
  "com.todo.recurring.series-ended.v1": "Series ended",
};

export function eventInWords(type: string): string {
  return EVENT_WORDS[type] ?? type;
}

/** The zones the browser knows, the given ones first if missing. */
export function timeZones(...ensure: string[]): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const zones = intl.supportedValuesOf?.("timeZone") ?? ["UTC"];
  const extra = ensure.filter((z) => z && !zones.includes(z));
  return [...extra, ...zones];
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
