"use client";

// Short messages at the corner of the screen: undo after a change,
// reminders (which stay until acknowledged) and errors. One live region,
// so screen readers hear them as they come.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: string;
  message: string;
  kind?: "info" | "error" | "reminder";
  action?: ToastAction;
  /** Milliseconds before it goes by itself; reminders stay. */
  timeout?: number;
}

interface ToastApi {
  push(t: Toast): void;
  dismiss(id: string): void;
}

const ToastContext = createContext<ToastApi>({ push: () => {}, dismiss: () => {} });

export function useToasts(): ToastApi {
  return useContext(ToastContext);
}

export function ToastProvider({ children }: { children: React.ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: string) => {
    setToasts((all) => all.filter((t) => t.id !== id));
    const timer = timers.current.get(id);
    if (timer) clearTimeout(timer);
    timers.current.delete(id);
  }, []);

  const push = useCallback(
    (t: Toast) => {
      setToasts((all) => [...all.filter((x) => x.id !== t.id), t]);
      const old = timers.current.get(t.id);
      if (old) clearTimeout(old);
      const timeout = t.timeout ?? (t.kind === "reminder" ? 0 : 6000);
      if (timeout > 0) timers.current.set(t.id, setTimeout(() => dismiss(t.id), timeout));
    },
    [dismiss],
  );

  useEffect(() => {
    const all = timers.current;
    return () => all.forEach((timer) => clearTimeout(timer));
  }, []);

  const api = useMemo(() => ({ push, dismiss }), [push, dismiss]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.kind ?? "info"}`} data-testid={`toast-${t.kind ?? "info"}`}>
            <span className="grow">{t.message}</span>
            {t.action && (
              <button
                type="button"
                className="btn btn-small"
                onClick={() => {
                  t.action?.run();
                  if (t.kind !== "reminder") dismiss(t.id);
                }}
              >
                {t.action.label}
              </button>
            )}
            <button type="button" className="btn btn-small" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
