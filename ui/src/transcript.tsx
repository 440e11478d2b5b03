// One session: participants, forks, lifecycle, usage chart, and the transcript with tool calls,
// their results, message types (agent intents) and redactions; kept live by the event stream.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type LedgerEvent, type LifecycleEvent, type Message, type Page, type ProviderCall, type Session } from "./api";
import { UsageChart } from "./charts";
import { label, when } from "./format";

const PAGE = 100;
const MAX_MESSAGES = 2000;

async function loadMessages(token: string, id: string, afterSeq: number, search: string): Promise<Message[]> {
  const out: Message[] = [];
  let after = afterSeq;
  for (;;) {
    const params = new URLSearchParams({ size: String(PAGE), after_seq: String(after) });
    if (search) params.set("search", search);
    const page = await api<Page<Message>>(token, `/api/agent-sessions/${encodeURIComponent(id)}/messages?${params}`);
    out.push(...page.items);
    if (page.items.length < PAGE || out.length >= MAX_MESSAGES) return out;
    after = page.items[page.items.length - 1].seq;
  }
}

function ToolCalls({ message, results }: { message: Message; results: Map<string, Message> }) {
  return (
    <ul class="tool-calls" aria-label="Tool calls">
      {(message.tool_calls ?? []).map((call) => {
        const result = call.id ? results.get(call.id) : undefined;
        return (
          <li class="tool-call" id={call.id ? `call-${call.id}` : undefined}>
            <div>
              <span class="badge tool">tool call</span> <code>{call.function?.name ?? "?"}</code>
              {call.id && <span class="muted"> {call.id}</span>}
            </div>
            {call.function?.arguments && <pre class="args">{call.function.arguments}</pre>}
            {result ? (
              <p class="muted">
                result: <a href={`#msg-${result.seq}`}>message #{result.seq}</a>
              </p>
            ) : (
              <p class="muted">no result recorded</p>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function MessageItem({ message, results }: { message: Message; results: Map<string, Message> }) {
  const route = message.sender ? `${message.sender}${message.recipient ? ` → ${message.recipient}` : " → everyone"}` : null;
  return (
    <li class={`message role-${message.role}${message.redacted ? " redacted" : ""}`} id={`msg-${message.seq}`}>
      <header>
        <span class="seq" title="sequence number">
          #{message.seq}
        </span>
        <span class={`badge role`}>{message.role}</span>
        {message.message_type && <span class="badge intent" title="message type (agent intent)">{label(message.message_type)}</span>}
        {route && <span class="route">{route}</span>}
        {message.redacted && <span class="badge redacted-badge">redacted</span>}
        <time dateTime={message.created_at}>{when(message.created_at)}</time>
      </header>
      {message.tool_call_id && (
        <p class="tool-result">
          <span class="badge tool">tool result</span> for <a href={`#call-${message.tool_call_id}`}>{message.tool_call_id}</a>
          {message.tool_name && (
            <>
              {" "}
              (<code>{message.tool_name}</code>)
            </>
          )}
        </p>
      )}
      {message.content && <div class="content">{message.content}</div>}
      {message.tool_calls && message.tool_calls.length > 0 && <ToolCalls message={message} results={results} />}
    </li>
  );
}

export function TranscriptView({ token, id, lastEvent }: { token: string; id: string; lastEvent: LedgerEvent | null }) {
  const [session, setSession] = useState<Session | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [events, setEvents] = useState<LifecycleEvent[]>([]);
  const [calls, setCalls] = useState<ProviderCall[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [activeSearch, setActiveSearch] = useState("");
  const [announce, setAnnounce] = useState("");
  const base = `/api/agent-sessions/${encodeURIComponent(id)}`;

  const reloadSession = () =>
    Promise.all([
      api<Session>(token, base).then(setSession),
      api<{ items: LifecycleEvent[] }>(token, `${base}/events`).then((r) => setEvents(r.items)),
    ]);
  const reloadCalls = () => api<{ items: ProviderCall[] }>(token, `${base}/provider-calls`).then((r) => setCalls(r.items));
  const reloadMessages = (query: string) => loadMessages(token, id, 0, query).then(setMessages);

  useEffect(() => {
    setError(null);
    Promise.all([reloadSession(), reloadCalls(), reloadMessages(activeSearch)]).catch((e: Error) => setError(e.message));
  }, [token, id, activeSearch]);

  // Live updates: react to this session's events from the account stream.
  useEffect(() => {
    if (!lastEvent || !session || lastEvent.conversation_id !== session.id) return;
    const kind = lastEvent.kind;
    if (kind === "message.appended" && !activeSearch) {
      const after = messages.length ? messages[messages.length - 1].seq : 0;
      loadMessages(token, id, after, "").then((fresh) => {
        if (!fresh.length) return;
        setMessages((current) => {
          const known = new Set(current.map((m) => m.seq));
          return [...current, ...fresh.filter((m) => !known.has(m.seq))];
        });
        setAnnounce(`${fresh.length} new message${fresh.length === 1 ? "" : "s"}`);
      });
      api<Session>(token, base).then(setSession);
    } else if (kind.startsWith("message") || kind === "messages.cleared") {
      reloadMessages(activeSearch);
      api<Session>(token, base).then(setSession);
    } else if (kind === "lifecycle.transition" || kind === "conversation.updated") {
      reloadSession();
    } else if (kind === "provider_call.recorded") {
      reloadCalls();
    } else if (kind === "conversation.deleted") {
      setError("This session was deleted.");
    }
  }, [lastEvent]);

  const results = useMemo(() => {
    const map = new Map<string, Message>();
    for (const m of messages) if (m.tool_call_id && !map.has(m.tool_call_id)) map.set(m.tool_call_id, m);
    return map;
  }, [messages]);

  const totals = useMemo(() => {
    let tokens = 0;
    let cost = 0;
    let priced = false;
    for (const c of calls) {
      tokens += c.total_tokens;
      if (c.cost !== null) {
        cost += c.cost;
        priced = true;
      }
    }
    return { tokens, cost, priced };
  }, [calls]);

  if (error && !session) {
    return (
      <section>
        <p role="alert" class="error">
          {error}
        </p>
        <a href="#/">Back to sessions</a>
      </section>
    );
  }
  if (!session) return <p aria-live="polite">Loading…</p>;
  let cumulative = 0;
  return (
    <article aria-labelledby="session-title" class="transcript">
      <nav aria-label="Breadcrumb">
        <a href="#/">Sessions</a> / <span>{session.name || session.session_id || session.id}</span>
      </nav>
      <h1 id="session-title">{session.name || session.session_id || session.id}</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="layout">
        <div class="main-col">
          <section aria-labelledby="transcript-title">
            <h2 id="transcript-title">Transcript</h2>
            <form
              class="message-search"
              role="search"
              aria-label="Search messages"
              onSubmit={(e) => {
                e.preventDefault();
                setActiveSearch(search.trim());
              }}
            >
              <label for="message-search">Full-text search in this session</label>
              <input id="message-search" type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
              <button type="submit">Search</button>
              {activeSearch && (
                <button
                  type="button"
                  onClick={() => {
                    setSearch("");
                    setActiveSearch("");
                  }}
                >
                  Show all
                </button>
              )}
            </form>
            <p class="visually-hidden" aria-live="polite">
              {announce}
            </p>
            {activeSearch && (
              <p class="count">
                {messages.length} message{messages.length === 1 ? "" : "s"} match “{activeSearch}”
              </p>
            )}
            <ol class="messages" aria-label="Messages">
              {messages.map((m) => (
                <MessageItem message={m} results={results} />
              ))}
            </ol>
            {!messages.length && <p class="muted">No messages.</p>}
          </section>
        </div>
        <aside aria-label="About this session">
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <span class={`status status-${session.status}`}>{label(session.status)}</span>
            </dd>
            <dt>Kind</dt>
            <dd>{label(session.kind)}</dd>
            <dt>Id</dt>
            <dd>
              <code>{session.id}</code>
            </dd>
            {session.session_id && (
              <>
                <dt>Session id</dt>
                <dd>
                  <code>{session.session_id}</code>
                </dd>
              </>
            )}
            <dt>Messages</dt>
            <dd>{session.message_count}</dd>
            <dt>Usage</dt>
            <dd>
              {totals.tokens.toLocaleString("en")} tokens in {calls.length} provider call{calls.length === 1 ? "" : "s"}
              {totals.priced ? `, $${totals.cost.toFixed(6)}` : ""}
            </dd>
            {session.parent_id && (
              <>
                <dt>Forked from</dt>
                <dd>
                  <a href={`#/sessions/${encodeURIComponent(session.parent_id)}`}>{session.parent_id}</a>
                  {session.forked_at_seq != null && ` at message #${session.forked_at_seq}`}
                </dd>
              </>
            )}
          </dl>
          <section aria-labelledby="participants-title">
            <h2 id="participants-title">Participants</h2>
            {session.participants.length ? (
              <ul class="participants">
                {session.participants.map((p) => (
                  <li>
                    <strong>{p.participant_id}</strong> <span class="badge">{label(p.participant_type)}</span>
                    {p.participant_role && <span class="muted"> role: {p.participant_role}</span>}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">No participants recorded.</p>
            )}
          </section>
          <section aria-labelledby="lifecycle-title">
            <h2 id="lifecycle-title">Lifecycle</h2>
            {events.length ? (
              <ol class="lifecycle">
                {events.map((e) => (
                  <li>
                    <time dateTime={e.at}>{when(e.at)}</time>: {label(e.from_status)} → <strong>{label(e.to_status)}</strong>
                    {e.reason && ` (${e.reason})`}
                    {e.actor && <span class="muted"> by {e.actor}</span>}
                  </li>
                ))}
              </ol>
            ) : (
              <p class="muted">No status changes yet.</p>
            )}
          </section>
          {calls.length > 0 && (
            <UsageChart
              title="Usage per provider call"
              labels={calls.map((c, i) => `${i + 1}. ${c.model ?? c.provider}`)}
              series={[
                { label: "tokens", values: calls.map((c) => c.total_tokens), kind: "bar", axis: "tokens", color: "#6b8fd6" },
                {
                  label: "cumulative cost (USD)",
                  values: calls.map((c) => (cumulative += c.cost ?? 0)),
                  kind: "line",
                  axis: "cost",
                  color: "#c0504d",
                },
              ]}
            />
          )}
        </aside>
      </div>
    </article>
  );
}
