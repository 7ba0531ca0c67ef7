"use client";

// Create or edit a task in a modal dialog. What is typed is kept as a
// draft until saved, so an expired session loses nothing. A change made
// elsewhere since the dialog opened is not overwritten (If-Match).

import { useEffect, useId, useMemo, useRef, useState } from "react";
import { ApiError, idempotencyKey } from "@/lib/api";
import { clearDraft, loadDraft, saveDraft } from "@/lib/drafts";
import { timeZones } from "@/lib/format";
import { createTask, updateTask } from "@/lib/tasks";
import { PRIORITIES, type Priority, type ReminderInput, type Task, type TaskInput } from "@/lib/types";
import RecurrenceBuilder, { type RepeatValue } from "./RecurrenceBuilder";
import RemindersField from "./RemindersField";

interface Form {
  title: string;
  description: string;
  priority: Priority;
  tags: string;
  dueDate: string;
  dueTime: string;
  dueZone: string;
  reminders: ReminderInput[];
  repeat: RepeatValue;
  /** Kept with the draft: a retried create acts once. */
  key: string;
}

function formOf(task: Task | null, zone: string): Form {
  return {
    title: task?.title ?? "",
    description: task?.description ?? "",
    priority: task?.priority ?? "none",
    tags: task?.tags.join(", ") ?? "",
    dueDate: task?.due?.date ?? "",
    dueTime: task?.due?.time?.slice(0, 5) ?? "",
    dueZone: task?.due?.time_zone ?? zone,
    reminders: task?.reminders.map((r) => ({ ...r })) ?? [],
    repeat: { rrule: task?.recurrence?.rrule ?? null, basis: task?.recurrence?.basis ?? "schedule" },
    key: idempotencyKey(),
  };
}

export function inputOf(f: Form): TaskInput {
  const due = f.dueDate ? { date: f.dueDate, time: f.dueTime || null, time_zone: f.dueZone } : null;
  return {
    title: f.title.trim(),
    description: f.description,
    priority: f.priority,
    tags: f.tags
      .split(/[,\s]+/)
      .map((t) => t.trim().replace(/^#/, "").toLowerCase())
      .filter(Boolean),
    due,
    reminders: f.reminders,
    recurrence: f.repeat.rrule ? { rrule: f.repeat.rrule, basis: f.repeat.basis } : null,
  };
}

interface Props {
  task: Task | null;
  userZone: string;
  onClose(): void;
  onSaved(t: Task): void;
}

export default function TaskDialog({ task, userZone, onClose, onSaved }: Props) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const draftName = `task:${task?.id ?? "new"}`;
  const [form, setForm] = useState<Form>(() => loadDraft<Form>(draftName) ?? formOf(task, userZone));
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(() => timeZones(form.dueZone, userZone), [form.dueZone, userZone]);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);

  const update = (patch: Partial<Form>) =>
    setForm((f) => {
      const next = { ...f, ...patch };
      saveDraft(draftName, next);
      return next;
    });

  const close = () => {
    clearDraft(draftName);
    onClose();
  };

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = inputOf(form);
      const saved = task ? await updateTask(task.id, input, task.version) : await createTask(input, form.key);
      clearDraft(draftName);
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        setError({ message: "This task was changed on another device. Close and open it again to see the change." });
      } else if (err instanceof ApiError) {
        setError({ message: err.message, field: err.field });
      } else {
        setError({ message: "Saving failed. Try again." });
      }
      setBusy(false);
    }
  }

  const invalid = (field: string) => error?.field !== undefined && (error.field === field || error.field.startsWith(`${field}.`));
  const fieldError = (field: string) =>
    invalid(field) ? (
      <span className="error" id={`${id}-${field}-error`}>
        {error?.message}
      </span>
    ) : null;
  const due = form.dueDate ? { date: form.dueDate, time: form.dueTime || null, time_zone: form.dueZone } : null;
  const saved = task
    ? {
        id: task.id,
        rrule: task.recurrence?.rrule ?? null,
        text: task.recurrence?.text ?? "",
        dueKey: task.due ? `${task.due.date}|${task.due.time?.slice(0, 5) ?? ""}|${task.due.time_zone}` : "",
      }
    : null;

  return (
    <dialog ref={dialog} aria-labelledby={`${id}-heading`} onCancel={close} data-testid="task-dialog">
      <form onSubmit={submit} noValidate>
        <h2 id={`${id}-heading`}>{task ? "Edit task" : "New task"}</h2>
        <div className="field">
          <label htmlFor={`${id}-title`}>Title</label>
          <input
            id={`${id}-title`}
            required
            maxLength={500}
            value={form.title}
            aria-invalid={invalid("title")}
            aria-describedby={invalid("title") ? `${id}-title-error` : undefined}
            onChange={(e) => update({ title: e.target.value })}
          />
          {fieldError("title")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-description`}>Description</label>
          <textarea id={`${id}-description`} rows={3} value={form.description} onChange={(e) => update({ description: e.target.value })} />
          {fieldError("description")}
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-priority`}>Priority</label>
            <select id={`${id}-priority`} value={form.priority} onChange={(e) => update({ priority: e.target.value as Priority })}>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-tags`}>Tags</label>
            <input
              id={`${id}-tags`}
              value={form.tags}
              placeholder="work, home"
              aria-invalid={invalid("tags")}
              onChange={(e) => update({ tags: e.target.value })}
            />
            {fieldError("tags")}
          </div>
        </div>
        <fieldset>
          <legend>Due</legend>
          <div className="field-row">
            <div className="field">
              <label htmlFor={`${id}-date`}>Date</label>
              <input id={`${id}-date`} type="date" value={form.dueDate} aria-invalid={invalid("due")} onChange={(e) => update({ dueDate: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-time`}>
                Time <span className="hint">(optional)</span>
              </label>
              <input id={`${id}-time`} type="time" value={form.dueTime} disabled={!form.dueDate} onChange={(e) => update({ dueTime: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-zone`}>Time zone</label>
              <select id={`${id}-zone`} value={form.dueZone} disabled={!form.dueDate} onChange={(e) => update({ dueZone: e.target.value })}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {form.dueDate && (
            <button type="button" className="btn btn-small" onClick={() => update({ dueDate: "", dueTime: "" })}>
              Clear due
            </button>
          )}
          {fieldError("due")}
        </fieldset>
        <RemindersField value={form.reminders} onChange={(reminders) => update({ reminders })} hasDue={Boolean(form.dueDate)} />
        {fieldError("reminders")}
        <RecurrenceBuilder value={form.repeat} onChange={(repeat) => update({ repeat })} due={due} saved={saved} />
        {fieldError("recurrence")}
        {error && (
          <p className="error" role="alert">
            {error.field ? `${error.field}: ` : ""}
            {error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {task ? "Save" : "Add task"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
