import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Realtime, type RealtimeHandlers } from "@/lib/realtime";
import { storeSession } from "@/lib/session";

// A stand-in for the browser's WebSocket that records what the client
// sends and lets the test play the server's frames.
class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 1;
  sent: unknown[] = [];
  url: URL;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(url: URL | string) {
    this.url = new URL(String(url));
    FakeSocket.all.push(this);
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function handlers() {
  return {
    onEvent: vi.fn(),
    onReminder: vi.fn(),
    onAcked: vi.fn(),
    onResync: vi.fn(),
    onStatus: vi.fn(),
  } satisfies RealtimeHandlers;
}

const socket = async (n: number) => {
  await vi.waitFor(() => expect(FakeSocket.all.length).toBe(n));
  return FakeSocket.all[n - 1];
};

beforeEach(() => {
  FakeSocket.all = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  let tickets = 0;
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify({ ticket: `t${++tickets}` }), { status: 201 })),
  );
  storeSession({
    user: { id: "u", email: "e@x.test", name: "", time_zone: "UTC" },
    access_token: "A",
    refresh_token: "R",
    expires_in: 900,
  });
});

afterEach(() => vi.unstubAllGlobals());

describe("Realtime", () => {
  it("connects with a ticket and a device, and resumes from the hello so nothing is missed", async () => {
    const h = handlers();
    const rt = new Realtime(h);
    rt.start();
    const ws = await socket(1);
    expect(ws.url.pathname).toBe("/ws");
    expect(ws.url.searchParams.get("ticket")).toBe("t1");
    expect(ws.url.searchParams.get("device")).toMatch(/^web-/);
    expect(ws.url.searchParams.has("cursor")).toBe(false);
    ws.frame({ type: "hello", cursor: "7", connection: "c", device: "d" });
    expect(ws.sent).toEqual([{ type: "resume", cursor: "7" }]);
    expect(h.onResync).toHaveBeenCalledOnce();
    expect(h.onStatus).toHaveBeenLastCalledWith("live");
    rt.stop();
  });

  it("passes events on in order and reconnects from the last cursor after a drop", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const h = handlers();
    const rt = new Realtime(h);
    rt.start();
    const first = await socket(1);
    first.frame({ type: "hello", cursor: "1" });
    first.frame({ type: "event", cursor: "2", event: { id: "e2", type: "com.todo.task.created.v1" } });
    first.frame({ type: "event", cursor: "3", event: { id: "e3", type: "com.todo.task.updated.v1" } });
    expect(h.onEvent.mock.calls.map((c) => c[0].id)).toEqual(["e2", "e3"]);
    first.drop();
    expect(h.onStatus).toHaveBeenLastCalledWith("offline");
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers();
    const second = await socket(2);
    expect(second.url.searchParams.get("cursor")).toBe("3");
    expect(second.url.searchParams.get("ticket")).toBe("t2");
    second.frame({ type: "hello", cursor: "3" });
    // A resumed stream is not a fresh start: no reload, no resume message.
    expect(second.sent).toEqual([]);
    expect(h.onResync).toHaveBeenCalledOnce();
    second.frame({ type: "resync", cursor: "90" });
    expect(h.onResync).toHaveBeenCalledTimes(2);
    rt.stop();
  });

  it("shows reminders and sends acknowledgements", async () => {
    const h = handlers();
    const rt = new Realtime(h);
    rt.start();
    const ws = await socket(1);
    ws.frame({ type: "hello", cursor: "1" });
    ws.frame({ type: "reminder", event: { id: "r1", type: "com.todo.reminder.triggered.v1" } });
    expect(h.onReminder).toHaveBeenCalledWith(expect.objectContaining({ id: "r1" }));
    expect(rt.ack("r1")).toBe(true);
    expect(ws.sent.at(-1)).toEqual({ type: "ack", reminder: "r1" });
    ws.frame({ type: "acked", reminder: "r1", first: true });
    expect(h.onAcked).toHaveBeenCalledWith("r1");
    rt.stop();
  });
});
