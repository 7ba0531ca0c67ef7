import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import RecurrenceBuilder, { type RepeatValue } from "@/components/RecurrenceBuilder";
import { storeSession } from "@/lib/session";

const due = { date: "2026-11-30", time: "09:00", time_zone: "Europe/Paris" };

function Harness() {
  const [v, setV] = useState<RepeatValue>({ rrule: null, basis: "schedule" });
  return (
    <>
      <RecurrenceBuilder value={v} onChange={setV} due={due} />
      <output data-testid="rule">{v.rrule ?? ""}</output>
    </>
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("RecurrenceBuilder", () => {
  it("builds a custom rule and shows the server's words and dates for it", async () => {
    storeSession({
      user: { id: "u", email: "e@x.test", name: "", time_zone: "Europe/Paris" },
      access_token: "A",
      refresh_token: "R",
      expires_in: 900,
    });
    const bodies: unknown[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (_path: string, init: RequestInit) => {
        const body = JSON.parse(String(init.body));
        bodies.push(body);
        return new Response(
          JSON.stringify({
            recurrence: { rrule: body.recurrence.rrule, basis: "schedule", text: "every 2 weeks on Monday and Friday" },
            occurrences: [
              { local: "2026-11-30T09:00:00", at: "2026-11-30T08:00:00Z" },
              { local: "2026-12-04T09:00:00", at: "2026-12-04T08:00:00Z" },
            ],
          }),
          { status: 200 },
        );
      }),
    );
    render(<Harness />);
    fireEvent.change(screen.getByLabelText("Repeats"), { target: { value: "custom" } });
    fireEvent.change(screen.getByLabelText("Every"), { target: { value: "2" } });
    fireEvent.click(screen.getByLabelText("Monday"));
    fireEvent.click(screen.getByLabelText("Friday"));
    expect(screen.getByTestId("rule").textContent).toBe("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR");
    const preview = await screen.findByTestId("recurrence-preview");
    await waitFor(() => expect(preview.textContent).toContain("every 2 weeks on Monday and Friday"));
    expect(preview.textContent).toContain("Fri, 4 Dec 2026, 09:00");
    expect(bodies.at(-1)).toEqual({
      due,
      recurrence: { rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", basis: "schedule" },
      count: 4,
    });
  });

  it("a preset needs no custom form, and none clears the rule", () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("{}", { status: 500 })));
    render(<Harness />);
    fireEvent.change(screen.getByLabelText("Repeats"), { target: { value: "weekdays" } });
    expect(screen.getByTestId("rule").textContent).toBe("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    expect(screen.queryByLabelText("Every")).toBeNull();
    fireEvent.change(screen.getByLabelText("Repeats"), { target: { value: "none" } });
    expect(screen.getByTestId("rule").textContent).toBe("");
  });
});
