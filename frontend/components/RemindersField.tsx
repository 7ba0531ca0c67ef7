"use client";

// Reminders of a task: some time before the due, or at a moment of its own.

import { useId } from "react";
import type { ReminderInput } from "@/lib/types";

const BEFORE: { minutes: number; label: string }[] = [
  { minutes: 0, label: "At the due time" },
  { minutes: 5, label: "5 minutes before" },
  { minutes: 15, label: "15 minutes before" },
  { minutes: 30, label: "30 minutes before" },
  { minutes: 60, label: "1 hour before" },
  { minutes: 1440, label: "1 day before" },
];

interface Props {
  value: ReminderInput[];
  onChange(v: ReminderInput[]): void;
  hasDue: boolean;
}

/** `2026-11-27T14:30` in the browser's zone, for a datetime-local input. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export default function RemindersField({ value, onChange, hasDue }: Props) {
  const id = useId();
  const set = (i: number, r: ReminderInput) => onChange(value.map((x, j) => (j === i ? r : x)));
  return (
    <fieldset>
      <legend>Reminders</legend>
      {value.length === 0 && <p className="hint">No reminders.</p>}
      {value.map((r, i) => {
        const relative = r.before_minutes !== undefined;
        return (
          <div className="field-row" key={r.id ?? `new-${i}`}>
            <div className="field">
              <label htmlFor={`${id}-kind-${i}`}>Reminder {i + 1}</label>
              <select
                id={`${id}-kind-${i}`}
                value={relative ? "before" : "at"}
                onChange={(e) =>
                  set(
                    i,
                    e.target.value === "before"
                      ? { before_minutes: 15 }
                      : { at: new Date(Date.now() + 3600_000).toISOString() },
                  )
                }
              >
                <option value="before" disabled={!hasDue}>
                  Before the due
                </option>
                <option value="at">At a time</option>
              </select>
            </div>
            {relative ? (
              <div className="field">
                <label htmlFor={`${id}-before-${i}`}>When</label>
                <select
                  id={`${id}-before-${i}`}
                  value={r.before_minutes}
                  onChange={(e) => set(i, { before_minutes: Number(e.target.value) })}
                >
                  {BEFORE.some((b) => b.minutes === r.before_minutes) ? null : (
                    <option value={r.before_minutes}>{r.before_minutes} minutes before</option>
                  )}
                  {BEFORE.map((b) => (
                    <option key={b.minutes} value={b.minutes}>
                      {b.label}
                    </option>
                  ))}
                </select>
              </div>
            ) : (
              <div className="field">
                <label htmlFor={`${id}-at-${i}`}>At (this device&apos;s time)</label>
                <input
                  id={`${id}-at-${i}`}
                  type="datetime-local"
                  step={1}
                  value={r.at ? toLocalInput(r.at) : ""}
                  onChange={(e) => {
                    const d = new Date(e.target.value);
                    if (!Number.isNaN(d.getTime())) set(i, { at: d.toISOString() });
                  }}
                />
              </div>
            )}
            <div className="field" style={{ flex: "0 0 auto", justifyContent: "flex-end" }}>
              <button
                type="button"
                className="btn btn-small"
                aria-label={`Remove reminder ${i + 1}`}
                onClick={() => onChange(value.filter((_, j) => j !== i))}
              >
                Remove
              </button>
            </div>
          </div>
        );
      })}
      {value.length < 10 && (
        <button
          type="button"
          className="btn btn-small"
          onClick={() =>
            onChange([...value, hasDue ? { before_minutes: 15 } : { at: new Date(Date.now() + 3600_000).toISOString() }])
          }
        >
          Add reminder
        </button>
      )}
    </fieldset>
  );
}
