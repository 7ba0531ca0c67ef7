// Task calls used by the screens, and what "undo" means for each change.

import { api, idempotencyKey } from "./api";
import type { Task, TaskInput, TaskPage } from "./types";

export function listTasks(
  query: { q: string; filter: string; sort: string },
  limit: number,
  cursor: string | null,
  signal?: AbortSignal,
): Promise<TaskPage> {
  const p = new URLSearchParams();
  if (query.q.trim()) p.set("q", query.q.trim());
  if (query.filter.trim()) p.set("filter", query.filter.trim());
  if (query.sort) p.set("sort", query.sort);
  p.set("limit", String(limit));
  if (cursor) p.set("cursor", cursor);
  return api<TaskPage>("GET", `/api/tasks?${p}`, { signal });
}

export function createTask(input: TaskInput, key = idempotencyKey()): Promise<Task> {
  return api<Task>("POST", "/api/tasks", { body: input, headers: { "Idempotency-Key": key } });
}

export function updateTask(id: string, patch: Partial<TaskInput>, version?: number): Promise<Task> {
  const headers: Record<string, string> = {};
  if (version !== undefined) headers["If-Match"] = `"${version}"`;
  return api<Task>("PATCH", `/api/tasks/${encodeURIComponent(id)}`, { body: patch, headers });
}

export function setCompleted(task: Task, completed: boolean): Promise<Task> {
  const verb = completed ? "complete" : "uncomplete";
  return api<Task>("POST", `/api/tasks/${encodeURIComponent(task.id)}/${verb}`, {
    headers: { "Idempotency-Key": idempotencyKey() },
  });
}

export function deleteTask(task: Task): Promise<unknown> {
  return api("DELETE", `/api/tasks/${encodeURIComponent(task.id)}`);
}

/** The fields of a task as a create body, to bring back a deleted task
 * (a new task with the same content; reminders get new ids). */
export function recreateInput(task: Task): TaskInput {
  return {
    title: task.title,
    description: task.description || null,
    priority: task.priority,
    tags: task.tags,
    due: task.due,
    reminders: task.reminders.map((r) => ("at" in r ? { at: r.at } : { before_minutes: r.before_minutes })),
    recurrence: task.recurrence ? { rrule: task.recurrence.rrule, basis: task.recurrence.basis } : null,
  };
}
