"use client";

import { useState } from "react";
import AppShell from "@/components/AppShell";
import ChatPanel from "@/components/ChatPanel";
import TaskList from "@/components/TaskList";

function Workspace() {
  // At phone width one panel shows at a time; tabs switch between them.
  const [show, setShow] = useState<"tasks" | "chat">("tasks");
  return (
    <>
      <div className="panel-tabs" role="group" aria-label="Show">
        <button type="button" className="btn btn-small" aria-pressed={show === "tasks"} onClick={() => setShow("tasks")}>
          Tasks
        </button>
        <button type="button" className="btn btn-small" aria-pressed={show === "chat"} onClick={() => setShow("chat")}>
          Assistant
        </button>
      </div>
      <div className="workspace" data-show={show}>
        <TaskList />
        <ChatPanel />
      </div>
    </>
  );
}

export default function HomePage() {
  return (
    <AppShell>
      <Workspace />
    </AppShell>
  );
}
