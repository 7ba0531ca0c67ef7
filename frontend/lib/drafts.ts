// What a person is typing (a task being edited, a chat message) is kept in
// sessionStorage, so an expired session, a sign-in and a reload on the way
// back lose none of it. Cleared when the draft is saved or sent.

const PREFIX = "todo.draft.";

export function saveDraft<T>(name: string, value: T) {
  try {
    window.sessionStorage.setItem(PREFIX + name, JSON.stringify(value));
  } catch {
    // Storage full or disabled: drafts are a convenience.
  }
}

export function loadDraft<T>(name: string): T | null {
  try {
    const raw = window.sessionStorage.getItem(PREFIX + name);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export function clearDraft(name: string) {
  try {
    window.sessionStorage.removeItem(PREFIX + name);
  } catch {
    // nothing to clear
  }
}

export function clearAllDrafts() {
  try {
    const s = window.sessionStorage;
    for (const k of Object.keys(s)) if (k.startsWith(PREFIX)) s.removeItem(k);
  } catch {
    // nothing to clear
  }
}
