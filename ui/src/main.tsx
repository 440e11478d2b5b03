// The convoledger web UI: sign in with an API token, browse sessions, read transcripts live.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, followEvents, type LedgerEvent, savedToken, saveToken, type StreamState } from "./api";
import { SessionsView } from "./sessions";
import "./styles.css";
import { TranscriptView } from "./transcript";

interface Stats {
  sessions: number;
  messages: number;
}

function route(): { view: "sessions" } | { view: "session"; id: string } {
  const hash = location.hash.replace(/^#/, "");
  const match = hash.match(/^\/sessions\/(.+)$/);
  return match ? { view: "session", id: decodeURIComponent(match[1]) } : { view: "sessions" };
}

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="signin">
      <h1>Sign in to convoledger</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          try {
            await api<Stats>(token.trim(), "/api/stats");
            saveToken(token.trim());
            onSignedIn(token.trim());
          } catch (err) {
            setError(err instanceof ApiError && err.status === 401 ? "That token was not accepted." : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          aria-describedby="token-help"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <p id="token-help" class="muted">
          Create one with <code>convoledger user create NAME</code> (or use the one <code>convoledger quickstart</code> printed).
        </p>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

const STATE_TEXT: Record<StreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Not live",
};

function App() {
  const [token, setToken] = useState<string | null>(savedToken());
  const [where, setWhere] = useState(route());
  const [stream, setStream] = useState<StreamState>("connecting");
  const [lastEvent, setLastEvent] = useState<LedgerEvent | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const onHash = () => {
      setWhere(route());
      document.getElementById("main")?.focus();
    };
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    if (!token) return;
    let timer: number | undefined;
    const stop = followEvents(
      token,
      (event) => {
        setLastEvent(event);
        // The sessions list refreshes at most twice a second under a burst of events.
        if (timer === undefined) {
          timer = window.setTimeout(() => {
            timer = undefined;
            setVersion((v) => v + 1);
          }, 500);
        }
      },
      setStream,
    );
    return () => {
      stop();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [token]);

  if (!token) return <SignIn onSignedIn={setToken} />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          convoledger
        </a>
        <span class={`live live-${stream}`} role="status" aria-live="polite">
          {STATE_TEXT[stream]}
        </span>
        <button
          type="button"
          onClick={() => {
            saveToken(null);
            setToken(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {where.view === "sessions" ? (
          <SessionsView token={token} version={version} />
        ) : (
          <TranscriptView token={token} id={where.id} lastEvent={lastEvent} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
