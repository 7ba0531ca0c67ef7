// The API's JSON shapes (components/chat-api/openapi.json), as the app
// uses them.

export type Priority = "none" | "low" | "medium" | "high" | "urgent";
export const PRIORITIES: Priority[] = ["none", "low", "medium", "high", "urgent"];

export interface User {
  id: string;
  email: string;
  name: string;
  time_zone: string;
}

export interface Session {
  user: User;
  access_token: string;
  /** Absent when the server put it in the HttpOnly cookie (the web app's
   * way, `refresh_token_delivery: "cookie"`). */
  refresh_token?: string;
  expires_in: number;
}

export interface Due {
  date: string;
  time: string | null;
  time_zone: string;
}

export type Reminder =
  | { id: string; before_minutes: number }
  | { id: string; at: string };

export interface Recurrence {
  rrule: string;
  basis: "schedule" | "completion";
  text: string;
}

export interface Task {
  id: string;
  title: string;
  description: string;
  status: "open" | "completed";
  priority: Priority;
  tags: string[];
  due: Due | null;
  due_at: string | null;
  reminders: Reminder[];
  recurrence: Recurrence | null;
  series_id: string | null;
  occurrence: number | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  version: number;
}

export interface ReminderInput {
  id?: string;
  before_minutes?: number;
  at?: string;
}

/** The body of POST /api/tasks and PATCH /api/tasks/{id}. */
export interface TaskInput {
  title: string;
  description: string | null;
  priority: Priority | null;
  tags: string[] | null;
  due: { date: string; time: string | null; time_zone: string } | null;
  reminders: ReminderInput[] | null;
  recurrence: { rrule: string; basis: "schedule" | "completion" } | null;
}

export interface TaskPage {
  tasks: Task[];
  next_cursor: string | null;
}

export interface Occurrence {
  local: string;
  at: string;
}

export interface CloudEvent<T = unknown> {
  id: string;
  type: string;
  source: string;
  subject?: string;
  time?: string;
  data: T;
}

export interface AuditEntry {
  seq: number;
  topic: string;
  event: CloudEvent<Record<string, unknown>>;
  received_at: string;
  prev_hash: string;
  hash: string;
}

export interface Verification {
  ok: boolean;
  length: number;
  /** Entries recomputed by this call (those since the last verification). */
  checked: number;
  broken_at?: number;
  reason?: string;
}

export interface ChatAction {
  tool: string;
  arguments: Record<string, unknown>;
  result: Record<string, unknown>;
}

export interface ChoiceOption {
  id: string;
  title: string;
  label: string;
}

export type Awaiting = "choice" | "confirmation" | "detail" | null;

export interface ChatReply {
  conversation_id: string;
  reply: string;
  actions: ChatAction[];
  awaiting: Awaiting;
  options: (ChoiceOption | string)[];
}

export interface ChatMessage {
  role: "user" | "assistant";
  text: string;
  at: string;
  actions?: ChatAction[];
  awaiting?: Awaiting;
  options?: (ChoiceOption | string)[];
}

export interface Conversation {
  id: string;
  title: string;
  messages: ChatMessage[];
  awaiting: Awaiting;
  options: (ChoiceOption | string)[];
}

/** `{"error": {code, message, field?}}` of every refusal. */
export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
}
