// Where to go after signing in: `?next=` only when it names a page of
// this origin. The check is the browser's own URL parsing (which turns
// `/\host` and `/<tab>/host` into `//host`), not a look at the string, and
// the answer is the parsed absolute URL, so nothing is re-parsed later.

export function sameOriginNext(next: string | null, origin: string): string {
  const home = new URL("/", origin).href;
  if (!next || !next.startsWith("/")) return home;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return home;
  }
  return url.origin === new URL(origin).origin ? url.href : home;
}
