"use client";

// The task list: loads pages as the person scrolls, reloads what is shown
// when a change arrives from another device or the chat, and offers undo
// for complete / reopen / delete.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "@/lib/api";
import { loadDraft } from "@/lib/drafts";
import { createTask, deleteTask, listTasks, recreateInput, setCompleted } from "@/lib/tasks";
import type { Task } from "@/lib/types";
import { useLive, useSignedIn } from "./AppShell";
import FilterBar, { type ListQuery } from "./FilterBar";
import TaskDialog from "./TaskDialog";
import TaskItem from "./TaskItem";
import { useToasts } from "./Toasts";

const PAGE = 50;
const MAX_PAGE = 200;

export default function TaskList() {
  const session = useSignedIn();
  const live = useLive();
  const toasts = useToasts();
  const [query, setQuery] = useState<ListQuery>({ q: "", filter: "", sort: "-created" });
  const [tasks, setTasks] = useState<Task[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [filterError, setFilterError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // A new task half typed when the session expired opens again as it was.
  const [editing, setEditing] = useState<Task | "new" | null>(() => (loadDraft("task:new") ? "new" : null));
  const shown = useRef(0);
  const request = useRef<AbortController | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);

  /** Loads the first `count` tasks of the query again (after a change). */
  const reload = useCallback(
    async (count: number) => {
      request.current?.abort();
      const ctl = new AbortController();
      request.current = ctl;
      try {
        const page = await listTasks(query, Math.min(MAX_PAGE, Math.max(PAGE, count)), null, ctl.signal);
        setTasks(page.tasks);
        shown.current = page.tasks.length;
        setNext(page.next_cursor);
        setFilterError(null);
        setLoadError(null);
      } catch (e) {
        if (e instanceof DOMException && e.name === "AbortError") return;
        if (e instanceof ApiError && (e.status === 400 || e.status === 422) && (e.field === "filter" || e.field === "q"))
          setFilterError(e.message);
        else if (e instanceof ApiError && e.status !== 401) setLoadError(e.message);
      } finally {
        if (request.current === ctl) setLoading(false);
      }
    },
    [query],
  );

  // A new query: debounce typing, then load its first page.
  useEffect(() => {
    setLoading(true);
    const t = setTimeout(() => void reload(PAGE), 250);
    return () => clearTimeout(t);
  }, [reload]);

  // Changes from elsewhere: reload what is shown (the server filters and
  // sorts, so a changed task may enter, leave or move).
  const latestReload = useRef(reload);
  latestReload.current = reload;
  const { subscribe } = live;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = subscribe((e) => {
      if (e.kind === "event" && !/^com\.todo\.(task|recurring)\./.test(e.event.type)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void latestReload.current(shown.current), 100);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe]);

  const loadMore = useCallback(async () => {
    if (!next || loading) return;
    setLoading(true);
    try {
      const page = await listTasks(query, PAGE, next);
      setTasks((all) => {
        const seen = new Set(all.map((t) => t.id));
        const more = [...all, ...page.tasks.filter((t) => !seen.has(t.id))];
        shown.current = more.length;
        return more;
      });
      setNext(page.next_cursor);
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) setLoadError(e.message);
    } finally {
      setLoading(false);
    }
  }, [next, loading, query]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !next) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((x) => x.isIntersecting)) void loadMore();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [next, loadMore]);

  const replace = (t: Task) => setTasks((all) => all.map((x) => (x.id === t.id ? t : x)));
  const failed = (e: unknown) =>
    toasts.push({ id: `error-${Date.now()}`, kind: "error", message: e instanceof Error ? e.message : "That did not work." });

  const toggle = async (task: Task) => {
    const complete = task.status === "open";
    try {
      replace(await setCompleted(task, complete));
      toasts.push({
        id: `undo-${task.id}`,
        message: `${complete ? "Completed" : "Reopened"} “${task.title}”`,
        action: {
          label: "Undo",
          run: () => void setCompleted(task, !complete).then(replace, failed),
        },
      });
    } catch (e) {
      failed(e);
    }
  };

  const remove = async (task: Task) => {
    try {
      await deleteTask(task);
      setTasks((all) => all.filter((x) => x.id !== task.id));
      toasts.push({
        id: `undo-${task.id}`,
        message: `Deleted “${task.title}”`,
        timeout: 10000,
        action: {
          label: "Undo",
          run: () => void createTask(recreateInput(task)).then(() => reload(shown.current + 1), failed),
        },
      });
    } catch (e) {
      failed(e);
    }
  };

  // Tags seen in any page so far: a filter that narrows the list must not
  // take its own tag out of the completion.
  const [knownTags, setKnownTags] = useState<string[]>([]);
  useEffect(() => {
    setKnownTags((known) => {
      const all = new Set([...known, ...tasks.flatMap((t) => t.tags)]);
      return all.size === known.length ? known : [...all].sort();
    });
  }, [tasks]);
  const tags = knownTags;

  return (
    <section className="panel tasks-panel" aria-labelledby="tasks-heading">
      <div style={{ display: "flex", alignItems: "center", gap: "0.5rem", marginBottom: "0.5rem" }}>
        <h1 id="tasks-heading" style={{ margin: 0 }}>
          Tasks
        </h1>
        <button type="button" className="btn btn-primary" style={{ marginLeft: "auto" }} onClick={() => setEditing("new")}>
          New task
        </button>
      </div>
      <FilterBar query={query} onChange={setQuery} tags={tags} filterError={filterError} />
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      <ul className="task-list" aria-label="Tasks" aria-busy={loading}>
        {tasks.map((t) => (
          <TaskItem
            key={t.id}
            task={t}
            viewerZone={session.user.time_zone}
            onToggle={toggle}
            onEdit={setEditing}
            onDelete={remove}
          />
        ))}
      </ul>
      {!loading && tasks.length === 0 && !filterError && (
        <p className="empty">{query.q || query.filter ? "No task matches." : "No tasks yet. Add one, or ask the assistant."}</p>
      )}
      <div ref={sentinel} aria-hidden="true" style={{ height: 1 }} />
      {next && (
        <button type="button" className="btn btn-small" onClick={() => void loadMore()} disabled={loading}>
          Load more
        </button>
      )}
      {editing && (
        <TaskDialog
          task={editing === "new" ? null : editing}
          userZone={session.user.time_zone}
          onClose={() => setEditing(null)}
          onSaved={(t) => {
            setEditing(null);
            if (tasks.some((x) => x.id === t.id)) replace(t);
            void reload(shown.current + 1);
          }}
        />
      )}
    </section>
  );
}
