// The recurrence builder's model: presets and a custom form, each turned
// into an RFC 5545 RRULE, and an RRULE read back into the form when it is
// one the form can show (otherwise it is kept as written).

export type Freq = "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY";
export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const WEEKDAY_NAMES: Record<Weekday, string> = {
  MO: "Monday",
  TU: "Tuesday",
  WE: "Wednesday",
  TH: "Thursday",
  FR: "Friday",
  SA: "Saturday",
  SU: "Sunday",
};

export type End = { kind: "never" } | { kind: "count"; count: number } | { kind: "until"; date: string };

export interface Rule {
  freq: Freq;
  interval: number;
  /** WEEKLY only; empty means the due's weekday. */
  byDay: Weekday[];
  /** MONTHLY only: a day of the month, -1 for the last. */
  byMonthDay: number | null;
  end: End;
}

export type Preset = "none" | "daily" | "weekdays" | "weekly" | "monthly" | "last-day" | "yearly" | "custom";

export const PRESET_LABELS: Record<Preset, string> = {
  none: "Does not repeat",
  daily: "Every day",
  weekdays: "Every weekday (Monday to Friday)",
  weekly: "Every week",
  monthly: "Every month",
  "last-day": "On the last day of every month",
  yearly: "Every year",
  custom: "Custom…",
};

export function presetRule(preset: Exclude<Preset, "none" | "custom">): Rule {
  const base: Rule = { freq: "DAILY", interval: 1, byDay: [], byMonthDay: null, end: { kind: "never" } };
  switch (preset) {
    case "daily":
      return base;
    case "weekdays":
      return { ...base, freq: "WEEKLY", byDay: ["MO", "TU", "WE", "TH", "FR"] };
    case "weekly":
      return { ...base, freq: "WEEKLY" };
    case "monthly":
      return { ...base, freq: "MONTHLY" };
    case "last-day":
      return { ...base, freq: "MONTHLY", byMonthDay: -1 };
    case "yearly":
      return { ...base, freq: "YEARLY" };
  }
}

export function toRRule(rule: Rule): string {
  const parts = [`FREQ=${rule.freq}`];
  if (rule.interval > 1) parts.push(`INTERVAL=${rule.interval}`);
  if (rule.freq === "WEEKLY" && rule.byDay.length) {
    parts.push(`BYDAY=${WEEKDAYS.filter((d) => rule.byDay.includes(d)).join(",")}`);
  }
  if (rule.freq === "MONTHLY" && rule.byMonthDay !== null) parts.push(`BYMONTHDAY=${rule.byMonthDay}`);
  if (rule.end.kind === "count") parts.push(`COUNT=${rule.end.count}`);
  if (rule.end.kind === "until") parts.push(`UNTIL=${rule.end.date.replaceAll("-", "")}T235959Z`);
  return parts.join(";");
}

/** The form's view of an RRULE, or null when it uses parts the form does
 * not offer (BYSETPOS, ordinal BYDAY, ...). */
export function fromRRule(rrule: string): Rule | null {
  const fields = new Map<string, string>();
  for (const part of rrule.replace(/^RRULE:/i, "").split(";")) {
    const [k, v] = part.split("=");
    if (!k || v === undefined) return null;
    fields.set(k.toUpperCase(), v.toUpperCase());
  }
  const freq = fields.get("FREQ");
  if (freq !== "DAILY" && freq !== "WEEKLY" && freq !== "MONTHLY" && freq !== "YEARLY") return null;
  const rule: Rule = { freq, interval: 1, byDay: [], byMonthDay: null, end: { kind: "never" } };
  for (const [k, v] of fields) {
    switch (k) {
      case "FREQ":
        break;
      case "INTERVAL":
        rule.interval = Number(v);
        if (!Number.isInteger(rule.interval) || rule.interval < 1) return null;
        break;
      case "BYDAY": {
        if (freq !== "WEEKLY") return null;
        const days = v.split(",");
        if (!days.every((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d))) return null;
        rule.byDay = days as Weekday[];
        break;
      }
      case "BYMONTHDAY": {
        const n = Number(v);
        if (freq !== "MONTHLY" || !Number.isInteger(n) || n === 0 || n < -1 || n > 31) return null;
        rule.byMonthDay = n;
        break;
      }
      case "COUNT":
        rule.end = { kind: "count", count: Number(v) };
        break;
      case "UNTIL": {
        const m = /^(\d{4})(\d{2})(\d{2})/.exec(v);
        if (!m) return null;
        rule.end = { kind: "until", date: `${m[1]}-${m[2]}-${m[3]}` };
        break;
      }
      default:
        return null;
    }
  }
  return rule;
}

/** Which preset an RRULE is, "custom" when none. */
export function presetOf(rrule: string | null): Preset {
  if (!rrule) return "none";
  for (const p of ["daily", "weekdays", "weekly", "monthly", "last-day", "yearly"] as const) {
    if (toRRule(presetRule(p)) === rrule.toUpperCase()) return p;
  }
  return "custom";
}
