// Searching every conversation of mine from the sidebar: results show the conversation and a
// snippet with the matches marked; clicking one opens its conversation.
import { useState, type ReactNode } from 'react';
import {
  ParleyError,
  SearchMessagesDocument,
  type ParleyClient,
  type SearchMessagesQuery,
} from '../../../client/src/index.js';

type Result = SearchMessagesQuery['searchMessages']['edges'][number];

/** The API marks matches «like this»: each marked part becomes a <mark>. */
export function markedSnippet(snippet: string): ReactNode[] {
  return snippet
    .split(/«([^»]*)»/)
    .map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part));
}

export function Search({
  client,
  titleOf,
  onResults,
  onOpen,
}: {
  client: ParleyClient;
  /** The title of a conversation in the list (null: not in it, e.g. beyond its first page). */
  titleOf(conversationId: string): string | null;
  /** The conversations the results are in (so the page can fetch those it does not list). */
  onResults(conversationIds: string[]): void;
  onOpen(conversationId: string): void;
}) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Result[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const search = async (e: React.FormEvent) => {
    e.preventDefault();
    const text = query.trim();
    if (!text) return;
    setBusy(true);
    setError(null);
    try {
      const data = await client.query(SearchMessagesDocument, { query: text, first: 20 });
      setResults(data.searchMessages.edges);
      onResults([...new Set(data.searchMessages.edges.map((r) => r.node.conversationId))]);
    } catch (err) {
      setResults(null);
      setError(err instanceof ParleyError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const clear = () => {
    setQuery('');
    setResults(null);
    setError(null);
  };

  return (
    <div className="search">
      <form onSubmit={search}>
        <input
          data-testid="search-input"
          type="search"
          placeholder="Search messages"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            if (!e.target.value) clear();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') clear();
          }}
        />
        <button data-testid="search-submit" type="submit" disabled={busy}>
          Search
        </button>
      </form>
      {error && (
        <p className="error" data-testid="search-error">
          {error}
        </p>
      )}
      {results && (
        <ul className="search-results" data-testid="search-results">
          {results.length === 0 && <li className="none">No messages found</li>}
          {results.map((r) => (
            <li
              key={r.cursor}
              data-testid="search-result"
              data-conversation-id={r.node.conversationId}
              data-seq={r.node.seq}
              onClick={() => onOpen(r.node.conversationId)}
            >
              <strong>{titleOf(r.node.conversationId) ?? 'Conversation'}</strong>
              <small>{r.node.sender.displayName}</small>
              <span className="snippet" data-testid="search-snippet">
                {markedSnippet(r.snippet)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
