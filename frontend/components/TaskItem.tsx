"use client";

// One row of the list: complete checkbox, title (opens the editor), due,
// priority, tags, and the row's actions.

import Link from "next/link";
import { formatDue, isOverdue } from "@/lib/format";
import type { Task } from "@/lib/types";

interface Props {
  task: Task;
  viewerZone: string;
  onToggle(task: Task): void;
  onEdit(task: Task): void;
  onDelete(task: Task): void;
}

export default function TaskItem({ task, viewerZone, onToggle, onEdit, onDelete }: Props) {
  const done = task.status === "completed";
  const checkId = `done-${task.id}`;
  return (
    <li className="task" data-status={task.status} data-testid="task" data-task-id={task.id}>
      <input
        id={checkId}
        type="checkbox"
        checked={done}
        onChange={() => onToggle(task)}
        aria-label={`${done ? "Reopen" : "Complete"} “${task.title}”`}
      />
      <div className="body">
        <button type="button" className="title" onClick={() => onEdit(task)} aria-label={`Edit “${task.title}”`}>
          {task.title}
        </button>
        <div className="meta">
          {task.due && (
            <span className={isOverdue(task) ? "overdue" : undefined}>
              {isOverdue(task) ? "Overdue · " : "Due "}
              {formatDue(task.due, viewerZone)}
            </span>
          )}
          {task.priority !== "none" && (
            <span className={`badge priority-${task.priority}`}>{task.priority}</span>
          )}
          {task.recurrence && <span title={task.recurrence.text}>↻ {task.recurrence.text}</span>}
          {task.reminders.length > 0 && (
            <span>
              {task.reminders.length} reminder{task.reminders.length > 1 ? "s" : ""}
            </span>
          )}
          {task.tags.map((t) => (
            <span key={t} className="badge">
              #{t}
            </span>
          ))}
        </div>
      </div>
      <div className="actions">
        <Link className="btn btn-small" href={`/task/?id=${encodeURIComponent(task.id)}`} aria-label={`History of “${task.title}”`}>
          History
        </Link>
        <button type="button" className="btn btn-small btn-danger" onClick={() => onDelete(task)} aria-label={`Delete “${task.title}”`}>
          Delete
        </button>
      </div>
    </li>
  );
}
