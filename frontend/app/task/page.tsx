"use client";

// /task/?id=...: a static export cannot prerender one page per task, so
// the id travels in the query.

import { useEffect, useState } from "react";
import AppShell from "@/components/AppShell";
import HistoryView from "@/components/HistoryView";

export default function TaskPage() {
  const [id, setId] = useState<string | null>(null);
  useEffect(() => setId(new URLSearchParams(window.location.search).get("id")), []);
  return (
    <AppShell>
      {id ? <HistoryView taskId={id} /> : <p>Choose a task from the list.</p>}
    </AppShell>
  );
}
