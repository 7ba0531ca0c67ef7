"use client";

// Name and time zone (the default zone of new dues and of the filter's
// "today").

import { useEffect, useId, useMemo, useRef, useState } from "react";
import { ApiError, api } from "@/lib/api";
import { timeZones } from "@/lib/format";
import { updateUser } from "@/lib/session";
import type { User } from "@/lib/types";
import { useSignedIn } from "./AppShell";

export default function SettingsForm() {
  const session = useSignedIn();
  const id = useId();
  const [name, setName] = useState(session.user.name);
  const [zone, setZone] = useState(session.user.time_zone);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const zones = useMemo(() => timeZones(zone), [zone]);
  const touched = useRef(false);

  // The profile may have changed on another device; what the person has
  // started typing wins over it.
  useEffect(() => {
    api<User>("GET", "/api/me")
      .then((u) => {
        updateUser(u);
        if (touched.current) return;
        setName(u.name);
        setZone(u.time_zone);
      })
      .catch(() => undefined);
  }, []);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setStatus(null);
    setError(null);
    try {
      const u = await api<User>("PATCH", "/api/me", { body: { name, time_zone: zone } });
      updateUser(u);
      setStatus("Saved.");
    } catch (err) {
      setError(err instanceof ApiError ? { message: err.message, field: err.field } : { message: "Saving failed." });
    }
  }

  return (
    <div className="panel" style={{ maxWidth: "32rem" }}>
      <h1>Settings</h1>
      <p className="hint">Signed in as {session.user.email}</p>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} maxLength={200} onChange={(e) => {
              touched.current = true;
              setName(e.target.value);
            }} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-zone`}>Time zone</label>
          <select id={`${id}-zone`} value={zone} onChange={(e) => {
              touched.current = true;
              setZone(e.target.value);
            }}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
          <span className="hint">New dues use it, and “today” in filters follows it.</span>
        </div>
        {error && (
          <p className="error" role="alert">
            {error.field ? `${error.field}: ` : ""}
            {error.message}
          </p>
        )}
        {status && <p role="status">{status}</p>}
        <button type="submit" className="btn btn-primary">
          Save
        </button>
      </form>
    </div>
  );
}
