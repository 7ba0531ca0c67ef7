import { fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import FilterBar, { type ListQuery } from "@/components/FilterBar";

function Harness({ error = null }: { error?: string | null }) {
  const [q, setQ] = useState<ListQuery>({ q: "", filter: "", sort: "-created" });
  return (
    <>
      <FilterBar query={q} onChange={setQ} tags={["work", "home"]} filterError={error} />
      <output data-testid="state">{JSON.stringify(q)}</output>
    </>
  );
}

const state = () => JSON.parse(screen.getByTestId("state").textContent!) as ListQuery;

describe("FilterBar", () => {
  it("completes keywords from the keyboard", () => {
    render(<Harness />);
    const box = screen.getByRole("combobox", { name: /filter/i });
    fireEvent.change(box, { target: { value: "due:to", selectionStart: 6 } });
    const options = within(screen.getByRole("listbox")).getAllByRole("option").map((o) => o.textContent);
    expect(options).toEqual(["due:today", "due:tomorrow"]);
    fireEvent.keyDown(box, { key: "ArrowDown" });
    expect(screen.getByRole("option", { name: "due:tomorrow" }).getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(box, { key: "Enter" });
    expect(state().filter).toBe("due:tomorrow ");
  });

  it("offers the user's tags and closes on Escape", () => {
    render(<Harness />);
    const box = screen.getByRole("combobox", { name: /filter/i });
    fireEvent.change(box, { target: { value: "tag:h", selectionStart: 5 } });
    expect(within(screen.getByRole("listbox")).getAllByRole("option").map((o) => o.textContent)).toEqual(["tag:home"]);
    fireEvent.keyDown(box, { key: "Escape" });
    expect(screen.queryByRole("listbox")).toBeNull();
  });

  it("toggles quick filters into the filter text and shows them pressed", () => {
    render(<Harness />);
    const today = screen.getByRole("button", { name: "Today" });
    fireEvent.click(today);
    expect(state().filter).toBe("due:today");
    expect(today.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(screen.getByRole("button", { name: "Overdue" }));
    expect(state().filter).toBe("due:today due:overdue");
    fireEvent.click(today);
    expect(state().filter).toBe("due:overdue");
  });

  it("adds a priority or a tag from the quick selects", () => {
    render(<Harness />);
    fireEvent.change(screen.getByLabelText("By priority"), { target: { value: "priority:urgent" } });
    expect(state().filter).toBe("priority:urgent");
    fireEvent.change(screen.getByLabelText("By tag"), { target: { value: "work" } });
    expect(state().filter).toBe("priority:urgent tag:work");
    fireEvent.change(screen.getByLabelText("By priority"), { target: { value: "priority:urgent" } });
    expect(state().filter).toBe("tag:work");
  });

  it("shows the server's parse error inline, tied to the input", () => {
    render(<Harness error="expected a filter term at 7" />);
    const box = screen.getByRole("combobox", { name: /filter/i });
    expect(box.getAttribute("aria-invalid")).toBe("true");
    const err = screen.getByRole("alert");
    expect(err.textContent).toContain("expected a filter term");
    expect(box.getAttribute("aria-describedby")).toBe(err.id);
  });
});
