import { describe, expect, it, vi } from 'vitest';
import { identityOf, isAdmin, SessionStore, type Session } from './session';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
    data,
  };
}

const token = (payload: object) =>
  `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.s`;

const session: Session = {
  email: 'a@example.com',
  username: 'u-1',
  idToken: token({ sub: 'u-1', 'cognito:groups': ['admin'] }),
  refreshToken: 'r-1',
};

describe('SessionStore', () => {
  it('keeps the session across reloads and tells its listeners', () => {
    const storage = memoryStorage();
    const store = new SessionStore(storage);
    const listener = vi.fn();
    store.subscribe(listener);
    store.signIn(session);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(new SessionStore(storage).session).toEqual(session);
  });

  it('replaces tokens on refresh and keeps the refresh token when none is given', () => {
    const store = new SessionStore(memoryStorage());
    store.signIn(session);
    store.replaceTokens('new-id');
    expect(store.session).toMatchObject({ idToken: 'new-id', refreshToken: 'r-1', username: 'u-1' });
  });

  it('forgets the session on sign-out and says why', () => {
    const storage = memoryStorage();
    const store = new SessionStore(storage);
    store.signIn(session);
    store.signOut('expired');
    expect(store.getState()).toEqual({ session: null, endedBecause: 'expired' });
    expect(storage.data.size).toBe(0);
  });

  it('ignores a stored value that is not a session', () => {
    expect(new SessionStore(memoryStorage({ 'vp.session': '{"idToken": 1}' })).session).toBeNull();
    expect(new SessionStore(memoryStorage({ 'vp.session': 'not json' })).session).toBeNull();
  });

  it('knows the admin group and the identity', () => {
    expect(isAdmin(session)).toBe(true);
    expect(isAdmin({ ...session, idToken: token({ sub: 'u-2' }) })).toBe(false);
    expect(identityOf(session)).toBe('u-1');
    expect(identityOf(null)).toBe('anonymous');
  });
});
