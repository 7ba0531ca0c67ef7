"use client";

// The assistant beside the list: the conversation, a card for each action
// it took (linking to the task), and its questions answered with buttons.
// The conversation is kept by the server; this browser remembers which one
// is open.

import Link from "next/link";
import { useEffect, useId, useRef, useState } from "react";
import { ApiError, api, idempotencyKey } from "@/lib/api";
import { clearDraft, loadDraft, saveDraft } from "@/lib/drafts";
import type { ChatAction, ChatMessage, ChatReply, ChoiceOption, Conversation } from "@/lib/types";
import { useSignedIn } from "./AppShell";

const TOOL_WORDS: Record<string, string> = {
  add_task: "Added",
  update_task: "Changed",
  complete_task: "Completed",
  uncomplete_task: "Reopened",
  delete_task: "Deleted",
  get_task: "Looked at",
  list_tasks: "Listed tasks",
};

function ActionCard({ action }: { action: ChatAction }) {
  type Result = { id?: string; title?: string; task?: { id?: string; title?: string }; tasks?: unknown[]; error?: { message?: string } };
  const raw = action.result as Result;
  // Tools answer {"task": {...}}; model-mode tools may answer the task itself.
  const result: Result = { ...raw, ...(raw.task ?? {}) };
  const verb = TOOL_WORDS[action.tool] ?? action.tool;
  if (result.error) {
    return (
      <span className="action-card" data-testid="action-card">
        {verb}: refused ({result.error.message})
      </span>
    );
  }
  if (action.tool === "list_tasks") {
    return (
      <span className="action-card" data-testid="action-card">
        {verb}: {Array.isArray(result.tasks) ? result.tasks.length : 0} found
      </span>
    );
  }
  const id = result.id ?? (action.arguments.id as string | undefined);
  return (
    <span className="action-card" data-testid="action-card">
      {verb}:{" "}
      {id ? (
        <Link href={`/task/?id=${encodeURIComponent(id)}`}>{result.title ?? "the task"}</Link>
      ) : (
        (result.title ?? "a task")
      )}
    </span>
  );
}

function optionLabel(o: ChoiceOption | string): string {
  if (typeof o === "string") return o === "yes" ? "Yes" : o === "no" ? "No" : o;
  return o.label;
}

export default function ChatPanel() {
  const session = useSignedIn();
  const id = useId();
  const storeKey = `todo.chat.${session.user.id}`;
  const [conversation, setConversation] = useState<string | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [text, setText] = useState(() => loadDraft<string>("chat") ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const log = useRef<HTMLOListElement>(null);

  // Reopen the conversation this browser had open, or on a new device the
  // user's latest one.
  useEffect(() => {
    const open = (id: string) =>
      api<Conversation>("GET", `/api/chat/conversations/${encodeURIComponent(id)}`).then((c) => {
        setConversation(c.id);
        setMessages(c.messages);
      });
    const known = window.localStorage.getItem(storeKey);
    if (known) {
      open(known).catch(() => window.localStorage.removeItem(storeKey));
      return;
    }
    api<{ conversations: { id: string }[] }>("GET", "/api/chat/conversations")
      .then((list) => (list.conversations[0] ? open(list.conversations[0].id) : undefined))
      .catch(() => undefined);
  }, [storeKey]);

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: "end" });
  }, [messages]);

  async function say(message: string) {
    const trimmed = message.trim();
    if (!trimmed || busy) return;
    setBusy(true);
    setError(null);
    const at = new Date().toISOString();
    setMessages((m) => [...m, { role: "user", text: trimmed, at }]);
    try {
      const reply = await api<ChatReply>("POST", "/api/chat", {
        body: { conversation_id: conversation, message: trimmed },
        headers: { "Idempotency-Key": idempotencyKey() },
      });
      setConversation(reply.conversation_id);
      window.localStorage.setItem(storeKey, reply.conversation_id);
      setMessages((m) => [
        ...m,
        {
          role: "assistant",
          text: reply.reply,
          at: new Date().toISOString(),
          actions: reply.actions,
          awaiting: reply.awaiting,
          options: reply.options,
        },
      ]);
      if (message === text) {
        setText("");
        clearDraft("chat");
      }
    } catch (e) {
      setMessages((m) => m.filter((x) => x.at !== at));
      setError(e instanceof ApiError ? e.message : "The assistant could not be reached.");
    } finally {
      setBusy(false);
    }
  }

  const last = messages[messages.length - 1];
  const question = last?.role === "assistant" && last.awaiting && last.options?.length ? last : null;

  return (
    <section className="panel chat-panel" aria-labelledby={`${id}-heading`}>
      <div style={{ display: "flex", alignItems: "center", gap: "0.5rem" }}>
        <h2 id={`${id}-heading`} style={{ margin: 0 }}>
          Assistant
        </h2>
        <button
          type="button"
          className="btn btn-small"
          style={{ marginLeft: "auto" }}
          onClick={() => {
            setConversation(null);
            setMessages([]);
            window.localStorage.removeItem(storeKey);
          }}
        >
          New conversation
        </button>
      </div>
      <div className="chat">
        <ol className="chat-log" ref={log} aria-label="Conversation" aria-live="polite">
          {messages.length === 0 && (
            <li className="hint">Try “add buy milk tomorrow at 9am”, “every monday water the plants” or “what is due this week?”.</li>
          )}
          {messages.map((m, i) => (
            <li key={`${m.at}-${i}`} className={`msg ${m.role}`} data-testid={`chat-${m.role}`}>
              <span className="visually-hidden">{m.role === "user" ? "You said: " : "Assistant: "}</span>
              {m.text}
              {m.actions?.map((a, j) => (
                <ActionCard key={j} action={a} />
              ))}
            </li>
          ))}
        </ol>
        {question && (
          <div className="choices" role="group" aria-label="Answer the assistant">
            {question.options?.map((o, i) => (
              <button
                key={typeof o === "string" ? o : o.id}
                type="button"
                className="btn btn-small"
                disabled={busy}
                onClick={() => void say(typeof o === "string" ? o : String(i + 1))}
              >
                {optionLabel(o)}
              </button>
            ))}
          </div>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <form
          className="chat-form"
          onSubmit={(e) => {
            e.preventDefault();
            void say(text);
          }}
        >
          <label htmlFor={`${id}-message`} className="visually-hidden">
            Message to the assistant
          </label>
          <textarea
            id={`${id}-message`}
            rows={2}
            maxLength={4000}
            placeholder="Ask the assistant…"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              saveDraft("chat", e.target.value);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                void say(text);
              }
            }}
          />
          <button type="submit" className="btn btn-primary" disabled={busy || !text.trim()}>
            Send
          </button>
        </form>
      </div>
    </section>
  );
}
