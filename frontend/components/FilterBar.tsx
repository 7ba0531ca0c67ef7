"use client";

// Search, the filter language (with completion of its keywords and the
// server's parse error shown under it), quick filters and sort.

import { useId, useRef, useState } from "react";
import { applySuggestion, hasTerm, suggestions, toggleTerm } from "@/lib/filter";

export interface ListQuery {
  q: string;
  filter: string;
  sort: string;
}

export const SORTS: { value: string; label: string }[] = [
  { value: "-created", label: "Newest first" },
  { value: "due", label: "Due date" },
  { value: "-priority,due", label: "Priority" },
  { value: "title", label: "Title" },
  { value: "-updated", label: "Recently changed" },
];

const QUICK: { term: string; label: string }[] = [
  { term: "status:open", label: "Open" },
  { term: "due:today", label: "Today" },
  { term: "due>0h", label: "Upcoming" },
  { term: "due:overdue", label: "Overdue" },
  { term: "priority>=high", label: "High priority" },
];

const PRIORITY_TERMS: { term: string; label: string }[] = [
  { term: "priority:urgent", label: "Urgent" },
  { term: "priority:high", label: "High" },
  { term: "priority:medium", label: "Medium" },
  { term: "priority:low", label: "Low" },
  { term: "priority:none", label: "No priority" },
];

interface Props {
  query: ListQuery;
  onChange(q: ListQuery): void;
  tags: string[];
  filterError: string | null;
}

export default function FilterBar({ query, onChange, tags, filterError }: Props) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [caret, setCaret] = useState(0);
  const options = open ? suggestions(query.filter, caret, tags) : [];
  const listId = `${id}-filter-options`;
  const errorId = `${id}-filter-error`;

  const choose = (choice: string) => {
    const next = applySuggestion(query.filter, caret, choice);
    onChange({ ...query, filter: next.text });
    setCaret(next.caret);
    setActive(0);
    requestAnimationFrame(() => {
      input.current?.setSelectionRange(next.caret, next.caret);
      input.current?.focus();
    });
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (!options.length) return;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => (a - 1 + options.length) % options.length);
    } else if (e.key === "Enter" || (e.key === "Tab" && !e.shiftKey)) {
      e.preventDefault();
      choose(options[Math.min(active, options.length - 1)]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      setOpen(false);
    }
  };

  return (
    <div role="search" className="filters" aria-label="Find tasks">
      <div className="row">
        <div className="field" style={{ flex: "1 1 12rem" }}>
          <label htmlFor={`${id}-q`}>Search</label>
          <input
            id={`${id}-q`}
            type="search"
            placeholder="Words in title, description or tags"
            value={query.q}
            onChange={(e) => onChange({ ...query, q: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-sort`}>Sort</label>
          <select id={`${id}-sort`} value={query.sort} onChange={(e) => onChange({ ...query, sort: e.target.value })}>
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field combo" style={{ margin: 0 }}>
        <label htmlFor={`${id}-filter`}>
          Filter <span className="hint">e.g. status:open priority&gt;=high tag:work | due:overdue</span>
        </label>
        <input
          id={`${id}-filter`}
          ref={input}
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={options.length > 0}
          aria-controls={listId}
          aria-activedescendant={options.length ? `${listId}-${Math.min(active, options.length - 1)}` : undefined}
          aria-invalid={filterError !== null}
          aria-describedby={filterError ? errorId : undefined}
          autoComplete="off"
          spellCheck={false}
          value={query.filter}
          onChange={(e) => {
            onChange({ ...query, filter: e.target.value });
            setCaret(e.target.selectionStart ?? e.target.value.length);
            setOpen(true);
            setActive(0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        {options.length > 0 && (
          <ul role="listbox" id={listId} aria-label="Filter keywords">
            {options.map((o, i) => (
              <li
                key={o}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(o);
                }}
              >
                {o}
              </li>
            ))}
          </ul>
        )}
        {filterError && (
          <span className="error" id={errorId} role="alert" data-testid="filter-error">
            {filterError}
          </span>
        )}
      </div>
      <div className="quick" role="group" aria-label="Quick filters">
        {QUICK.map((f) => (
          <button
            key={f.term}
            type="button"
            className="btn btn-small"
            aria-pressed={hasTerm(query.filter, f.term)}
            onClick={() => onChange({ ...query, filter: toggleTerm(query.filter, f.term) })}
          >
            {f.label}
          </button>
        ))}
        <select
          aria-label="By priority"
          className="btn-small"
          value=""
          onChange={(e) => e.target.value && onChange({ ...query, filter: toggleTerm(query.filter, e.target.value) })}
        >
          <option value="">By priority…</option>
          {PRIORITY_TERMS.map((p) => (
            <option key={p.term} value={p.term}>
              {hasTerm(query.filter, p.term) ? `✓ ${p.label}` : p.label}
            </option>
          ))}
        </select>
        {tags.length > 0 && (
          <select
            aria-label="By tag"
            className="btn-small"
            value=""
            onChange={(e) => e.target.value && onChange({ ...query, filter: toggleTerm(query.filter, `tag:${e.target.value}`) })}
          >
            <option value="">By tag…</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {hasTerm(query.filter, `tag:${t}`) ? `✓ ${t}` : t}
              </option>
            ))}
          </select>
        )}
      </div>
    </div>
  );
}
