// The HTTP API as the UI uses it: bearer-token requests and the live event stream.
import { EventSourceParserStream } from "eventsource-parser/stream";

const TOKEN_KEY = "convoledger.token";

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** GET (or another method) on the API with the bearer token; problem+json errors become ApiError. */
export async function api<T>(token: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...(init.headers ?? {}) },
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = body.detail ?? body.title ?? detail;
    } catch {
      /* not JSON: keep the status text */
    }
    throw new ApiError(response.status, `${response.status}: ${detail}`);
  }
  return (await response.json()) as T;
}

export interface Participant {
  participant_id: string;
  participant_type: string;
  participant_role: string | null;
}

export interface Session {
  id: string;
  session_id: string | null;
  name: string | null;
  description: string | null;
  agent_name: string | null;
  status: string;
  kind: string;
  participants: Participant[];
  topic: string | null;
  message_count: number;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
  parent_id?: string | null;
  forked_at_seq?: number | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  size: number;
}

export interface ToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

export interface Message {
  id: string;
  seq: number;
  role: string;
  content: string;
  sender: string | null;
  recipient: string | null;
  message_type: string | null;
  tool_call_id: string | null;
  tool_name: string | null;
  tool_calls: ToolCall[] | null;
  token_count: number | null;
  redacted: boolean;
  created_at: string;
  updated_at: string | null;
}

export interface LifecycleEvent {
  from_status: string;
  to_status: string;
  reason: string | null;
  actor: string | null;
  at: string;
}

export interface ProviderCall {
  id: string;
  provider: string;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost: number | null;
  currency: string;
  created_at: string;
}

export interface Usage {
  totals: Record<string, number | null>;
}

export interface DailyUsage {
  days: { date: string; calls: number; input_tokens: number; output_tokens: number; total_tokens: number; cost: number }[];
  currency: string;
  sessions_scanned: number;
  truncated: boolean;
}

export interface LedgerEvent {
  id: number;
  kind: string;
  conversation_id: string | null;
  payload: Record<string, unknown>;
  created_at: string;
}

export type StreamState = "connecting" | "live" | "reconnecting" | "stopped";

/**
 * Follow GET /api/stream (fetch, since EventSource cannot send the Authorization header).
 * Reconnects after the server's `retry` with Last-Event-ID = the last id seen, so no event is
 * missed or repeated. Returns a function that stops it.
 */
export function followEvents(
  token: string,
  onEvent: (event: LedgerEvent) => void,
  onState: (state: StreamState) => void,
): () => void {
  const controller = new AbortController();
  let lastId: string | null = null;
  let retryMs = 2000;

  async function connectOnce(): Promise<void> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
    if (lastId !== null) headers["Last-Event-ID"] = lastId;
    const response = await fetch("/api/stream", { headers, signal: controller.signal });
    if (response.status === 401) throw new ApiError(401, "the token was refused");
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    onState("live");
    const events = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ onRetry: (ms) => (retryMs = ms) }));
    const reader = events.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value.id !== undefined) lastId = value.id;
      if (!value.data) continue;
      onEvent(JSON.parse(value.data) as LedgerEvent);
    }
  }

  (async () => {
    onState("connecting");
    while (!controller.signal.aborted) {
      try {
        await connectOnce();
      } catch (error) {
        if (controller.signal.aborted) break;
        if (error instanceof ApiError && error.status === 401) {
          onState("stopped");
          return;
        }
      }
      if (controller.signal.aborted) break;
      onState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
    onState("stopped");
  })();
  return () => controller.abort();
}
