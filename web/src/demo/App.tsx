// The demo chat: signed out it shows register/login; signed in, the chat (Chat.tsx).
import { useCallback, useEffect, useState } from 'react';
import {
  createParleyClient,
  LoginDocument,
  MeDocument,
  ParleyError,
  RegisterDocument,
  type ParleyClient,
} from '../../../client/src/index.js';
import { Chat, type Me } from './Chat.js';
import { identifierOf } from './parts.js';
import { storedToken, storeToken } from './session.js';

export function App() {
  const [token, setToken] = useState(storedToken);
  // One client per token (its socket signs in with it), closed when the token changes. Kept with
  // its token, so nothing renders a new token with the previous client.
  const [session, setSession] = useState<{ token: string | null; client: ParleyClient } | null>(
    null,
  );
  useEffect(() => {
    const client = createParleyClient({ url: '/graphql', token });
    setSession({ token, client });
    return () => void client.dispose();
  }, [token]);

  const signIn = useCallback((next: string | null) => {
    storeToken(next);
    setToken(next);
  }, []);
  const signOut = useCallback(() => signIn(null), [signIn]);
  if (!session || session.token !== token) return null;
  return session.token ? (
    <Session key={session.token} client={session.client} onSignOut={signOut} />
  ) : (
    <AuthForms client={session.client} onSignedIn={signIn} />
  );
}

function Session({ client, onSignOut }: { client: ParleyClient; onSignOut(): void }) {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    client.query(MeDocument, {}).then(
      (data) => setMe(data.me),
      (err: unknown) => {
        // An expired or revoked token: back to the sign-in forms.
        if (err instanceof ParleyError && err.code === 'UNAUTHENTICATED') onSignOut();
      },
    );
  }, [client, onSignOut]);
  if (!me) return <p className="loading">Loading…</p>;
  return <Chat client={client} me={me} onSignOut={onSignOut} />;
}

function AuthForms({
  client,
  onSignedIn,
}: {
  client: ParleyClient;
  onSignedIn(token: string): void;
}) {
  const [mode, setMode] = useState<'register' | 'login'>('register');
  // A phone number or an email address: whichever the person types (an @ makes it an address).
  const [login, setLogin] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const identifier = identifierOf(login);
      const auth =
        mode === 'register'
          ? (
              await client.mutate(RegisterDocument, {
                input: { ...identifier, displayName, password },
              })
            ).register
          : (await client.mutate(LoginDocument, { input: { ...identifier, password } })).login;
      onSignedIn(auth.token);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <div className="auth">
      <h1>Parley</h1>
      <div className="tabs">
        <button
          data-testid="show-register"
          className={mode === 'register' ? 'active' : ''}
          onClick={() => setMode('register')}
        >
          Register
        </button>
        <button
          data-testid="show-login"
          className={mode === 'login' ? 'active' : ''}
          onClick={() => setMode('login')}
        >
          Sign in
        </button>
      </div>
      <form onSubmit={submit} data-testid={`${mode}-form`}>
        <label>
          Phone or email
          <input
            data-testid="auth-phone"
            type="text"
            autoComplete="username"
            placeholder="+1 555 010 0001 or ann@example.com"
            value={login}
            onChange={(e) => setLogin(e.target.value)}
            required
          />
        </label>
        {mode === 'register' && (
          <label>
            Name
            <input
              data-testid="auth-name"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              required
            />
          </label>
        )}
        <label>
          Password
          <input
            data-testid="auth-password"
            type="password"
            placeholder="at least 8 characters"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error" data-testid="auth-error">
            {error}
          </p>
        )}
        <button data-testid="auth-submit" type="submit" disabled={busy}>
          {mode === 'register' ? 'Create account' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
