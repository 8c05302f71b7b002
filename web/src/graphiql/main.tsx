// GraphiQL for Parley: queries and mutations over HTTP, subscriptions over graphql-ws, and a
// token field (kept in localStorage) that signs both in.
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { buildSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { TOKEN_KEY as DEMO_TOKEN_KEY } from '../demo/session.js';
import sdl from '../../../schema.graphql?raw';
import './graphiql.css';

// The schema comes with the bundle rather than by introspection: the standard introspection query
// is deeper (15) and costlier than the API's query limits allow, and introspection is off in
// production, where GraphiQL may still be turned on.
const schema = buildSchema(sdl);

const TOKEN_KEY = 'parley.graphiql.token';

const DEFAULT_QUERY = `# Paste a token (from register or login) above, then run:
query Me {
  me {
    id
    phone
    displayName
  }
}

# mutation Register {
#   register(input: { phone: "+15550100001", displayName: "Ann", password: "correct horse" }) {
#     token
#   }
# }

# subscription Live {
#   messageAdded {
#     seq
#     body
#     sender { displayName }
#   }
# }
`;

function wsUrl(): string {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** "Bearer x", "x" and " x " all mean the token x. */
const bare = (token: string) => token.trim().replace(/^Bearer\s+/i, '');

function App() {
  const [token, setToken] = useState(
    () => localStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(DEMO_TOKEN_KEY) ?? '',
  );
  useEffect(() => localStorage.setItem(TOKEN_KEY, token), [token]);

  // A new token means new credentials on both transports: a fresh fetcher and WebSocket (the old
  // socket is closed). Until the fetcher of the current token is in place, a query would run
  // with the previous one: `data-token-applied` says when it is.
  const [current, setCurrent] = useState<{ token: string; fetcher: Fetcher } | null>(null);
  useEffect(() => {
    const authorization = bare(token) ? `Bearer ${bare(token)}` : undefined;
    const wsClient = createClient({
      url: wsUrl(),
      connectionParams: authorization ? { authorization } : {},
    });
    setCurrent({
      token,
      fetcher: createGraphiQLFetcher({
        url: '/graphql',
        headers: authorization ? { authorization } : {},
        wsClient,
      }),
    });
    return () => void wsClient.dispose();
  }, [token]);

  return (
    <div className="parley-graphiql">
      <header>
        <strong>Parley</strong>
        <label>
          Token
          <input
            data-testid="graphiql-token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="paste the token from register or login"
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        <span className="hint">
          sent as <code>Authorization: Bearer …</code> over HTTP and in <code>connection_init</code>{' '}
          over WebSocket
        </span>
      </header>
      <main data-token-applied={current?.token === token}>
        {current && (
          <GraphiQL fetcher={current.fetcher} schema={schema} defaultQuery={DEFAULT_QUERY} />
        )}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
