import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, takeExpired } from "@/lib/api";
import { readSession, storeSession } from "@/lib/session";

const user = { id: "u1", email: "a@example.test", name: "A", time_zone: "UTC" };

/** A session as the server answers the web app: the refresh token is in
 * the HttpOnly cookie, not in the body (`refresh` only for one stored by an
 * earlier version, which kept it). */
function session(access: string, refresh?: string, expiresIn = 900) {
  return { user, access_token: access, expires_in: expiresIn, ...(refresh ? { refresh_token: refresh } : {}) };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("api", () => {
  it("sends the access token and parses the answer", async () => {
    storeSession(session("A1"));
    const fetch = vi.fn(async () => json(200, { ok: true }));
    vi.stubGlobal("fetch", fetch);
    await expect(api("GET", "/api/me")).resolves.toEqual({ ok: true });
    const init = (fetch.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer A1");
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    storeSession(session("A1"));
    const seen: string[] = [];
    let refreshes = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string, init: RequestInit) => {
        if (path === "/api/auth/refresh") {
          refreshes++;
          // The token travels in the cookie, which the browser adds.
          expect(JSON.parse(String(init.body))).toEqual({ refresh_token_delivery: "cookie" });
          return json(200, session("A2"));
        }
        const auth = (init.headers as Record<string, string>).Authorization;
        seen.push(auth);
        return auth === "Bearer A2" ? json(200, { n: 1 }) : json(401, { error: { code: "unauthorized", message: "expired" } });
      }),
    );
    // Two calls at once share one refresh (a refresh token works once).
    const [a, b] = await Promise.all([api("GET", "/api/tasks"), api("GET", "/api/me")]);
    expect(a).toEqual({ n: 1 });
    expect(b).toEqual({ n: 1 });
    expect(refreshes).toBe(1);
    expect(readSession()?.accessToken).toBe("A2");
    expect(seen.filter((s) => s === "Bearer A2")).toHaveLength(2);
  });

  it("hands a refresh token stored by an earlier version over to the cookie once", async () => {
    storeSession(session("A1", "R1", 0));
    const bodies: unknown[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string, init: RequestInit) => {
        if (path === "/api/auth/refresh") {
          bodies.push(JSON.parse(String(init.body)));
          return json(200, session("A2"));
        }
        return json(200, { ok: true });
      }),
    );
    await api("GET", "/api/me");
    expect(bodies).toEqual([{ refresh_token_delivery: "cookie", refresh_token: "R1" }]);
    // Nothing a page script could steal stays in storage.
    expect(readSession()?.refreshToken).toBeUndefined();
    expect(localStorage.getItem("todo.session")).not.toContain("R1");
  });

  it("ends the session, saying why, when the refresh is refused", async () => {
    storeSession(session("A1"));
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string) =>
        path === "/api/auth/refresh"
          ? json(401, { error: { code: "unauthorized", message: "revoked" } })
          : json(401, { error: { code: "unauthorized", message: "expired" } }),
      ),
    );
    await expect(api("GET", "/api/tasks")).rejects.toMatchObject({ status: 401, code: "session_expired" });
    expect(readSession()).toBeNull();
    // The app shell tells sign-in why (once).
    expect(takeExpired()).toBe(true);
    expect(takeExpired()).toBe(false);
  });

  it("ends the session when the refresh cookie is gone (422: no token)", async () => {
    storeSession(session("A1"));
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string) =>
        path === "/api/auth/refresh"
          ? json(422, { error: { code: "validation_failed", message: "refresh_token is required", field: "refresh_token" } })
          : json(401, { error: { code: "unauthorized", message: "expired" } }),
      ),
    );
    await expect(api("GET", "/api/tasks")).rejects.toMatchObject({ status: 401, code: "session_expired" });
    expect(readSession()).toBeNull();
  });

  it("after a 409 (another tab just renewed), uses the session that tab stores", async () => {
    storeSession(session("A1"));
    const seen: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (path: string, init: RequestInit) => {
        if (path === "/api/auth/refresh") {
          // The other tab's renewal reaches this tab's storage a moment later.
          setTimeout(() => storeSession(session("A2")), 150);
          return json(409, { error: { code: "conflict", message: "just renewed" } });
        }
        const auth = (init.headers as Record<string, string>).Authorization;
        seen.push(auth);
        return auth === "Bearer A2" ? json(200, { n: 2 }) : json(401, { error: { code: "unauthorized", message: "expired" } });
      }),
    );
    await expect(api("GET", "/api/tasks")).resolves.toEqual({ n: 2 });
    expect(readSession()?.accessToken).toBe("A2");
    expect(seen).toEqual(["Bearer A1", "Bearer A2"]);
  });

  it("turns a refusal into an ApiError naming the field", async () => {
    storeSession(session("A1"));
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => json(422, { error: { code: "validation_failed", message: "must not be blank", field: "title" } })),
    );
    const err = await api("POST", "/api/tasks", { body: { title: "" } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, field: "title", message: "must not be blank" });
  });

  it("reports an unreachable server as a network error", async () => {
    storeSession(session("A1"));
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(api("GET", "/api/tasks")).rejects.toMatchObject({ status: 0, code: "network" });
  });
});
