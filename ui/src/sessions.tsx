// The sessions list: the API's filters (GET /api/agent-sessions) and the account's usage chart.
import { useEffect, useState } from "preact/hooks";
import { api, type DailyUsage, type Page, type Session } from "./api";
import { UsageChart } from "./charts";
import { label, when } from "./format";

const STATUSES = ["", "active", "inactive", "inactive_timeout", "inactive_user_terminated", "inactive_system_terminated", "archived"];
const KINDS = ["", "agent_session", "conversation_session", "conversation", "chat_session"];
const PAGE_SIZE = 25;

interface Filters {
  search: string;
  status: string;
  kind: string;
  participant_id: string;
  created_from: string;
  created_to: string;
}

const EMPTY: Filters = { search: "", status: "", kind: "", participant_id: "", created_from: "", created_to: "" };

function query(filters: Filters, page: number): string {
  const params = new URLSearchParams({ page: String(page), size: String(PAGE_SIZE) });
  for (const [key, value] of Object.entries(filters)) {
    if (!value) continue;
    params.set(key, key.startsWith("created_") ? new Date(`${value}T00:00:00Z`).toISOString() : value);
  }
  if (filters.created_to) params.set("created_to", new Date(`${filters.created_to}T23:59:59Z`).toISOString());
  return params.toString();
}

export function SessionsView({ token, version }: { token: string; version: number }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<Page<Session> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [usage, setUsage] = useState<DailyUsage | null>(null);

  useEffect(() => {
    api<Page<Session>>(token, `/api/agent-sessions?${query(filters, page)}`)
      .then((r) => {
        setResult(r);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [token, filters, page, version]);

  useEffect(() => {
    api<DailyUsage>(token, "/api/usage/daily?days=30")
      .then(setUsage)
      .catch(() => setUsage(null));
  }, [token, version]);

  const field = (name: keyof Filters) => ({
    id: `filter-${name}`,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });
  const pages = result ? Math.max(1, Math.ceil(result.total / PAGE_SIZE)) : 1;

  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title">Sessions</h1>
      <form
        class="filters"
        role="search"
        aria-label="Filter sessions"
        onSubmit={(e) => {
          e.preventDefault();
          setPage(1);
          setFilters(draft);
        }}
      >
        <label for="filter-search">Name or session id</label>
        <input type="search" {...field("search")} placeholder="e.g. restaurant" />
        <label for="filter-status">Status</label>
        <select {...field("status")}>
          {STATUSES.map((s) => (
            <option value={s}>{s ? label(s) : "any"}</option>
          ))}
        </select>
        <label for="filter-kind">Kind</label>
        <select {...field("kind")}>
          {KINDS.map((k) => (
            <option value={k}>{k ? label(k) : "any"}</option>
          ))}
        </select>
        <label for="filter-participant_id">Participant</label>
        <input type="text" {...field("participant_id")} placeholder="participant id" />
        <label for="filter-created_from">Created from</label>
        <input type="date" {...field("created_from")} />
        <label for="filter-created_to">Created to</label>
        <input type="date" {...field("created_to")} />
        <div class="buttons">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
              setPage(1);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {result && (
        <>
          <p aria-live="polite" class="count">
            {result.total} session{result.total === 1 ? "" : "s"}
          </p>
          <table class="sessions">
            <caption class="visually-hidden">Sessions, most recently updated first</caption>
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Participants</th>
                <th scope="col" class="num">
                  Messages
                </th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((s) => (
                <tr>
                  <td>
                    <a href={`#/sessions/${encodeURIComponent(s.id)}`}>{s.name || s.session_id || s.id}</a>
                    {s.parent_id && <span class="badge">fork</span>}
                  </td>
                  <td>{label(s.kind)}</td>
                  <td>
                    <span class={`status status-${s.status}`}>{label(s.status)}</span>
                  </td>
                  <td>{s.participants.map((p) => p.participant_id).join(", ") || "—"}</td>
                  <td class="num">{s.message_count}</td>
                  <td>{when(s.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous page
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>
              Next page
            </button>
          </nav>
        </>
      )}
      {usage && (
        <UsageChart
          title={`Account usage per day, last 30 days${usage.truncated ? " (first 1000 sessions)" : ""}`}
          labels={usage.days.map((d) => d.date.slice(5))}
          series={[
            { label: "tokens", values: usage.days.map((d) => d.total_tokens), kind: "bar", axis: "tokens", color: "#6b8fd6" },
            { label: "cost (USD)", values: usage.days.map((d) => d.cost), kind: "line", axis: "cost", color: "#c0504d" },
          ]}
        />
      )}
    </section>
  );
}
