// The real-time connection (`/ws`, see the API description): a single-use
// ticket per connection, resume from the last cursor after any drop, so
// changes made elsewhere arrive once, in order, without a reload.

import { ApiError, api, refresh } from "./api";
import { deviceId, readSession } from "./session";
import type { CloudEvent } from "./types";

export type Status = "connecting" | "live" | "offline";

export interface RealtimeHandlers {
  /** A task, reminder or recurring event of this user, in cursor order. */
  onEvent(event: CloudEvent): void;
  /** A fired reminder this device has not acknowledged yet. */
  onReminder(event: CloudEvent): void;
  onAcked(reminderId: string): void;
  /** The list must be reloaded: the first connection, or a gap the server
   * cannot replay. */
  onResync(): void;
  onStatus(status: Status): void;
}

const MAX_BACKOFF_MS = 15_000;

export class Realtime {
  private ws: WebSocket | null = null;
  private cursor: string | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private status: Status | null = null;

  constructor(private readonly handlers: RealtimeHandlers) {}

  start() {
    this.stopped = false;
    window.addEventListener("online", this.reconnectNow);
    window.addEventListener("offline", this.goneOffline);
    void this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.reconnectNow);
    window.removeEventListener("offline", this.goneOffline);
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
  }

  /** Acknowledges a reminder for this device; `acked` answers. */
  ack(reminderEventId: string): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ type: "ack", reminder: reminderEventId }));
    return true;
  }

  private setStatus(s: Status) {
    if (s !== this.status) {
      this.status = s;
      this.handlers.onStatus(s);
    }
  }

  private reconnectNow = () => {
    if (this.stopped || !navigator.onLine) return;
    if (this.timer) clearTimeout(this.timer);
    this.attempt = 0;
    if (!this.ws) void this.connect();
  };

  /** The browser lost its network: drop the socket now (it may linger
   * half-open), and connect again with a resume once it is back. */
  private goneOffline = () => {
    this.setStatus("offline");
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
  };

  private async connect() {
    if (this.stopped || this.ws) return;
    this.setStatus(this.status === "offline" ? "offline" : "connecting");
    let ticket: string;
    try {
      ticket = (await api<{ ticket: string }>("POST", "/api/realtime/ticket")).ticket;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return; // signed out
      this.retry();
      return;
    }
    if (this.stopped) return;
    const url = new URL("/ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    url.searchParams.set("device", deviceId());
    if (this.cursor) url.searchParams.set("cursor", this.cursor);
    const ws = new WebSocket(url);
    this.ws = ws;
    const fresh = this.cursor === null;
    ws.onmessage = (m) => this.receive(String(m.data), fresh);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.setStatus("offline");
      if (e.code === 4001) {
        // The access token behind the connection expired: renew, then go on.
        void refresh(readSession()).finally(() => this.retry(0));
      } else {
        this.retry();
      }
    };
  }

  private receive(text: string, fresh: boolean) {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case "hello":
        this.attempt = 0;
        this.setStatus("live");
        if (fresh) {
          // Everything after the hello's cursor is replayed, then live:
          // the list loaded now misses nothing.
          this.cursor = String(frame.cursor);
          this.ws?.send(JSON.stringify({ type: "resume", cursor: this.cursor }));
          this.handlers.onResync();
        }
        break;
      case "event":
        this.cursor = String(frame.cursor);
        this.handlers.onEvent(frame.event as CloudEvent);
        break;
      case "reminder":
        this.handlers.onReminder(frame.event as CloudEvent);
        break;
      case "acked":
        this.handlers.onAcked(String(frame.reminder));
        break;
      case "resync":
        this.cursor = String(frame.cursor);
        this.handlers.onResync();
        break;
      default:
        break;
    }
  }

  private retry(delay?: number) {
    // Offline: the `online` event reconnects.
    if (this.stopped || !navigator.onLine) return;
    const wait = delay ?? Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt++);
    this.timer = setTimeout(() => void this.connect(), wait);
  }
}
