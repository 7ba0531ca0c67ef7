"use client";

// Repeat: common presets, or a custom rule (every N days / weeks on some
// weekdays / months on a day / years, ending never, after N times or on a
// date). The server says what the rule means and when it falls
// (/api/recurrence/preview, or /occurrences of a saved task).

import { useEffect, useId, useState } from "react";
import { ApiError, api } from "@/lib/api";
import { formatLocal } from "@/lib/format";
import {
  type End,
  type Freq,
  PRESET_LABELS,
  type Preset,
  type Rule,
  WEEKDAYS,
  WEEKDAY_NAMES,
  fromRRule,
  presetOf,
  presetRule,
  toRRule,
} from "@/lib/recurrence";
import type { Occurrence, Recurrence } from "@/lib/types";

export interface RepeatValue {
  rrule: string | null;
  basis: "schedule" | "completion";
}

interface Props {
  value: RepeatValue;
  onChange(v: RepeatValue): void;
  /** The due the series starts at; the rule needs one. */
  due: { date: string; time: string | null; time_zone: string } | null;
  /** The saved task, when editing one: while its rule and due are as
   * saved, its own /occurrences are shown (they know its place in the
   * series). */
  saved?: { id: string; rrule: string | null; text: string; dueKey: string } | null;
}

const UNITS: { freq: Freq; one: string; many: string }[] = [
  { freq: "DAILY", one: "day", many: "days" },
  { freq: "WEEKLY", one: "week", many: "weeks" },
  { freq: "MONTHLY", one: "month", many: "months" },
  { freq: "YEARLY", one: "year", many: "years" },
];

export default function RecurrenceBuilder({ value, onChange, due, saved }: Props) {
  const id = useId();
  const [preset, setPreset] = useState<Preset>(() => presetOf(value.rrule));
  const rule: Rule = (value.rrule && fromRRule(value.rrule)) || presetRule("weekly");
  const [preview, setPreview] = useState<{ text: string; dates: Occurrence[] } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const setRule = (r: Rule) => onChange({ ...value, rrule: toRRule(r) });
  const choosePreset = (p: Preset) => {
    setPreset(p);
    if (p === "none") onChange({ ...value, rrule: null });
    else if (p === "custom") onChange({ ...value, rrule: toRRule(rule) });
    else onChange({ ...value, rrule: toRRule(presetRule(p)) });
  };

  // Ask the server what the rule means whenever it or the due changes.
  const dueKey = due ? `${due.date}|${due.time ?? ""}|${due.time_zone}` : "";
  useEffect(() => {
    setProblem(null);
    if (!value.rrule || !due?.date) {
      setPreview(null);
      return;
    }
    const ctl = new AbortController();
    const unchanged = saved && saved.rrule === value.rrule && saved.dueKey === dueKey;
    const ask = () =>
      unchanged
      ? api<{ occurrences: Occurrence[] }>("GET", `/api/tasks/${encodeURIComponent(saved.id)}/occurrences?count=4`, {
          signal: ctl.signal,
        }).then((r) => ({ text: saved.text, dates: r.occurrences }))
      : api<{ recurrence: Recurrence; occurrences: Occurrence[] }>("POST", "/api/recurrence/preview", {
          body: { due, recurrence: { rrule: value.rrule, basis: value.basis }, count: 4 },
          signal: ctl.signal,
        }).then((r) => ({ text: r.recurrence.text, dates: r.occurrences }));
    const t = setTimeout(() => {
      ask().then(setPreview).catch((e) => {
        if (e instanceof ApiError) {
          setPreview(null);
          setProblem(e.message);
        }
      });
    }, 200);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
    // `due` is read through dueKey: its object is new on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value.rrule, value.basis, dueKey, saved?.id]);

  const custom = preset === "custom";
  const unit = UNITS.find((u) => u.freq === rule.freq) ?? UNITS[1];
  const setEnd = (end: End) => setRule({ ...rule, end });

  return (
    <fieldset>
      <legend>Repeat</legend>
      <div className="field">
        <label htmlFor={`${id}-preset`}>Repeats</label>
        <select id={`${id}-preset`} value={preset} onChange={(e) => choosePreset(e.target.value as Preset)}>
          {(Object.keys(PRESET_LABELS) as Preset[]).map((p) => (
            <option key={p} value={p}>
              {PRESET_LABELS[p]}
            </option>
          ))}
        </select>
      </div>
      {custom && (
        <>
          <div className="field-row">
            <div className="field">
              <label htmlFor={`${id}-interval`}>Every</label>
              <input
                id={`${id}-interval`}
                type="number"
                min={1}
                max={999}
                value={rule.interval}
                onChange={(e) => setRule({ ...rule, interval: Math.max(1, Number(e.target.value) || 1) })}
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-unit`}>Unit</label>
              <select
                id={`${id}-unit`}
                value={rule.freq}
                onChange={(e) => setRule({ ...rule, freq: e.target.value as Freq, byDay: [], byMonthDay: null })}
              >
                {UNITS.map((u) => (
                  <option key={u.freq} value={u.freq}>
                    {rule.interval > 1 ? u.many : u.one}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {rule.freq === "WEEKLY" && (
            <fieldset>
              <legend>On</legend>
              <div className="weekday-picks">
                {WEEKDAYS.map((d) => (
                  <label key={d}>
                    <input
                      type="checkbox"
                      checked={rule.byDay.includes(d)}
                      onChange={(e) =>
                        setRule({
                          ...rule,
                          byDay: e.target.checked ? [...rule.byDay, d] : rule.byDay.filter((x) => x !== d),
                        })
                      }
                    />
                    {WEEKDAY_NAMES[d]}
                  </label>
                ))}
              </div>
            </fieldset>
          )}
          {rule.freq === "MONTHLY" && (
            <div className="field">
              <label htmlFor={`${id}-monthday`}>On day of the month</label>
              <select
                id={`${id}-monthday`}
                value={rule.byMonthDay ?? 0}
                onChange={(e) => setRule({ ...rule, byMonthDay: Number(e.target.value) || null })}
              >
                <option value={0}>The due&apos;s day</option>
                {Array.from({ length: 31 }, (_, i) => (
                  <option key={i + 1} value={i + 1}>
                    {i + 1}
                  </option>
                ))}
                <option value={-1}>The last day</option>
              </select>
            </div>
          )}
          <div className="field-row">
            <div className="field">
              <label htmlFor={`${id}-end`}>Ends</label>
              <select
                id={`${id}-end`}
                value={rule.end.kind}
                onChange={(e) => {
                  const k = e.target.value;
                  setEnd(k === "count" ? { kind: "count", count: 10 } : k === "until" ? { kind: "until", date: due?.date ?? "" } : { kind: "never" });
                }}
              >
                <option value="never">Never</option>
                <option value="count">After a number of times</option>
                <option value="until">On a date</option>
              </select>
            </div>
            {rule.end.kind === "count" && (
              <div className="field">
                <label htmlFor={`${id}-count`}>Times</label>
                <input
                  id={`${id}-count`}
                  type="number"
                  min={1}
                  value={rule.end.count}
                  onChange={(e) => setEnd({ kind: "count", count: Math.max(1, Number(e.target.value) || 1) })}
                />
              </div>
            )}
            {rule.end.kind === "until" && (
              <div className="field">
                <label htmlFor={`${id}-until`}>Last date</label>
                <input id={`${id}-until`} type="date" value={rule.end.date} onChange={(e) => setEnd({ kind: "until", date: e.target.value })} />
              </div>
            )}
          </div>
          <p className="hint">
            Every {rule.interval > 1 ? `${rule.interval} ${unit.many}` : unit.one} · <code>{value.rrule}</code>
          </p>
        </>
      )}
      {value.rrule && (
        <div className="field">
          <label htmlFor={`${id}-basis`}>Next one is due</label>
          <select id={`${id}-basis`} value={value.basis} onChange={(e) => onChange({ ...value, basis: e.target.value as RepeatValue["basis"] })}>
            <option value="schedule">On schedule, from this due</option>
            <option value="completion">Counted from when I complete it</option>
          </select>
        </div>
      )}
      {value.rrule && !due?.date && <p className="error">A repeating task needs a due date.</p>}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {preview && (
        <div className="preview" data-testid="recurrence-preview" aria-live="polite">
          <p>
            <strong>{preview.text}</strong>
          </p>
          <p className="hint">Next dates:</p>
          <ol>
            {preview.dates.map((o) => (
              <li key={o.at}>{formatLocal(o.local)}</li>
            ))}
          </ol>
        </div>
      )}
    </fieldset>
  );
}
