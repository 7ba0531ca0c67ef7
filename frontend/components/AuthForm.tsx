"use client";

// Sign-in and sign-up. After either, the person goes back where they were
// (`?next=`), where their drafts are waiting.

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { ApiError, signIn, signUp } from "@/lib/api";
import { browserZone } from "@/lib/format";
import { sameOriginNext } from "@/lib/redirect";

export default function AuthForm({ mode }: { mode: "signin" | "signup" }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const q = new URLSearchParams(window.location.search);
    if (q.get("expired")) setNotice("Your session has expired. Sign in again to go on where you were.");
  }, []);

  const next = () =>
    sameOriginNext(new URLSearchParams(window.location.search).get("next"), window.location.origin);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "signin") await signIn(email, password);
      else await signUp(email, password, name, browserZone());
      router.replace(next());
    } catch (err) {
      setError(
        err instanceof ApiError
          ? { message: err.message, field: err.field }
          : { message: "Something went wrong. Try again." },
      );
      setBusy(false);
    }
  }

  const signup = mode === "signup";
  const fieldError = (f: string) =>
    error?.field === f ? (
      <span className="error" id={`${f}-error`}>
        {error.message}
      </span>
    ) : null;

  return (
    <main className="auth" id="content">
      <div className="panel">
        <h1>{signup ? "Create your account" : "Sign in"}</h1>
        {notice && (
          <p className="banner" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} noValidate>
          {signup && (
            <div className="field">
              <label htmlFor="name">Name</label>
              <input id="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
            </div>
          )}
          <div className="field">
            <label htmlFor="email">Email</label>
            <input
              id="email"
              type="email"
              autoComplete="email"
              required
              value={email}
              aria-invalid={error?.field === "email"}
              aria-describedby={error?.field === "email" ? "email-error" : undefined}
              onChange={(e) => setEmail(e.target.value)}
            />
            {fieldError("email")}
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              id="password"
              type="password"
              autoComplete={signup ? "new-password" : "current-password"}
              required
              minLength={signup ? 8 : undefined}
              value={password}
              aria-invalid={error?.field === "password"}
              aria-describedby={signup ? "password-hint" : undefined}
              onChange={(e) => setPassword(e.target.value)}
            />
            {signup && (
              <span className="hint" id="password-hint">
                At least 8 characters.
              </span>
            )}
            {fieldError("password")}
          </div>
          {error && !error.field && (
            <p className="error" role="alert">
              {error.message}
            </p>
          )}
          {error?.field && (
            <p className="visually-hidden" role="alert">
              {error.message}
            </p>
          )}
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {signup ? "Create account" : "Sign in"}
          </button>
        </form>
        <p style={{ marginTop: "1rem" }}>
          {signup ? (
            <>
              Already have an account? <Link href="/signin/">Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link href="/signup/">Create an account</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
