import { describe, expect, it } from "vitest";
import { sameOriginNext } from "@/lib/redirect";

const origin = "http://127.0.0.1:8080";

describe("sameOriginNext", () => {
  it("keeps a page of this origin, with its query and fragment", () => {
    expect(sameOriginNext("/tasks?filter=today#t1", origin)).toBe(
      "http://127.0.0.1:8080/tasks?filter=today#t1",
    );
  });

  it("goes home without a next", () => {
    expect(sameOriginNext(null, origin)).toBe("http://127.0.0.1:8080/");
    expect(sameOriginNext("", origin)).toBe("http://127.0.0.1:8080/");
  });

  // Each of these leaves the origin once a browser has parsed it.
  it.each([
    "//127.0.0.1:9/phish",
    "/\\127.0.0.1:9/phish",
    "/\t/127.0.0.1:9/phish2",
    "/\n/127.0.0.1:9/phish3",
    "https://evil.example/",
    "javascript:alert(1)",
    "\\\\evil.example/x",
  ])("refuses %j", (next) => {
    expect(sameOriginNext(next, origin)).toBe("http://127.0.0.1:8080/");
  });

  it("a path that parses to //host stays a path of this origin", () => {
    const url = new URL(sameOriginNext("/.//evil.example/x", origin));
    expect(url.origin).toBe(origin);
  });
});
