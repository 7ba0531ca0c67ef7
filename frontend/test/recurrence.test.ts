import { describe, expect, it } from "vitest";
import { fromRRule, presetOf, presetRule, toRRule } from "@/lib/recurrence";

describe("recurrence rules", () => {
  it("turns presets into RRULEs and recognises them back", () => {
    expect(toRRule(presetRule("daily"))).toBe("FREQ=DAILY");
    expect(toRRule(presetRule("weekdays"))).toBe("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    expect(toRRule(presetRule("last-day"))).toBe("FREQ=MONTHLY;BYMONTHDAY=-1");
    expect(presetOf("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")).toBe("weekdays");
    expect(presetOf("freq=daily")).toBe("daily");
    expect(presetOf(null)).toBe("none");
    expect(presetOf("FREQ=WEEKLY;INTERVAL=2")).toBe("custom");
  });

  it("builds custom rules with interval, weekdays in order and an end", () => {
    expect(
      toRRule({ freq: "WEEKLY", interval: 2, byDay: ["FR", "MO"], byMonthDay: null, end: { kind: "count", count: 5 } }),
    ).toBe("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=5");
    expect(
      toRRule({ freq: "MONTHLY", interval: 1, byDay: [], byMonthDay: 15, end: { kind: "until", date: "2027-03-31" } }),
    ).toBe("FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20270331T235959Z");
  });

  it("reads back what it builds", () => {
    for (const rule of [
      "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=5",
      "FREQ=MONTHLY;BYMONTHDAY=-1",
      "FREQ=YEARLY;UNTIL=20300101T235959Z",
    ]) {
      const parsed = fromRRule(rule);
      expect(parsed).not.toBeNull();
      expect(toRRule(parsed!)).toBe(rule);
    }
  });

  it("leaves rules the form cannot show to the text", () => {
    expect(fromRRule("FREQ=MONTHLY;BYDAY=-1FR")).toBeNull();
    expect(fromRRule("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1")).toBeNull();
    expect(fromRRule("FREQ=HOURLY")).toBeNull();
    expect(fromRRule("nonsense")).toBeNull();
  });
});
