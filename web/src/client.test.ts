import { describe, expect, it, vi } from 'vitest';
import type { DocumentNode } from 'graphql';
import { SessionStore, type Session } from './auth/session';
import { documentHash, makeTokenSource, reconnectOnRequest, reconnectRequest } from './client';
import type { RuntimeConfig } from './config';

const config: RuntimeConfig = {
  apiUrl: 'http://api/graphql',
  wsUrl: 'ws://ws',
  cognito: { region: 'us-east-1', userPoolId: 'us-east-1_x', clientId: 'c' },
  trustedDocuments: false,
  environment: 'test',
};

function jwt(expSeconds: number, sub = 'u-1'): string {
  return `h.${Buffer.from(JSON.stringify({ sub, exp: expSeconds })).toString('base64url')}.s`;
}

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

function storeWith(idToken: string): SessionStore {
  const store = new SessionStore(memoryStorage());
  store.signIn({ email: 'a@example.com', username: 'a@example.com', idToken, refreshToken: 'refresh' });
  return store;
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('makeTokenSource', () => {
  it('hands out a fresh token as it is', async () => {
    const token = jwt(inAnHour());
    const refresher = vi.fn();
    const source = makeTokenSource(config, storeWith(token), refresher);
    expect(await source.currentToken()).toBe(token);
    expect(refresher).not.toHaveBeenCalled();
  });

  it('refreshes an expired token once for concurrent callers', async () => {
    const store = storeWith(jwt(1));
    const fresh = jwt(inAnHour());
    const refresher = vi.fn((_c: RuntimeConfig, s: Session) => Promise.resolve({ ...s, idToken: fresh }));
    const source = makeTokenSource(config, store, refresher);
    const tokens = await Promise.all([source.currentToken(), source.currentToken(), source.currentToken()]);
    expect(tokens).toEqual([fresh, fresh, fresh]);
    expect(refresher).toHaveBeenCalledTimes(1);
    expect(store.session?.refreshToken).toBe('refresh');
  });

  it('signs the user out, saying the session expired, when Cognito refuses the refresh token', async () => {
    const store = storeWith(jwt(1));
    const source = makeTokenSource(config, store, () => Promise.reject(new Error('Refresh Token has been revoked')));
    expect(await source.currentToken()).toBeNull();
    expect(store.getState()).toEqual({ session: null, endedBecause: 'expired' });
  });

  it('has nothing to refresh for nobody', async () => {
    const store = new SessionStore(memoryStorage());
    const refresher = vi.fn();
    await makeTokenSource(config, store, refresher).refreshNow();
    expect(refresher).not.toHaveBeenCalled();
  });
});

describe('documentHash', () => {
  it('reads the client preset hash as APQ hex', () => {
    const document = { kind: 'Document', definitions: [], __meta__: { hash: 'sha256:abc123' } } as unknown as DocumentNode;
    expect(documentHash(document)).toBe('abc123');
  });
  it('refuses a document codegen did not make', () => {
    expect(() => documentHash({ kind: 'Document', definitions: [] } as unknown as DocumentNode)).toThrow(/codegen/);
  });
});

describe('reconnectOnRequest', () => {
  function harness() {
    const calls: string[] = [];
    const tokens = {
      refreshNow: vi.fn(() => {
        calls.push('refresh');
        return Promise.resolve();
      }),
    };
    const listener = reconnectOnRequest(tokens, () => {
      calls.push('restart');
    });
    return { calls, listener };
  }

  it('refreshes the token, then restarts the socket, when the token is about to expire', async () => {
    const { calls, listener } = harness();
    await listener(true, { reason: 'reconnect', cause: 'TOKEN_EXPIRES', deadline: 1_800_000_000 });
    expect(calls).toEqual(['refresh', 'restart']);
  });

  it('only restarts the socket when the connection nears its two-hour limit', async () => {
    const { calls, listener } = harness();
    await listener(true, { reason: 'reconnect', cause: 'CONNECTION_LIMIT', deadline: 1_800_000_000 });
    expect(calls).toEqual(['restart']);
  });

  it('leaves a keep-alive ping, and its own pings, to graphql-ws', async () => {
    const { calls, listener } = harness();
    await listener(true, undefined);
    await listener(true, { reason: 'something else' });
    await listener(false, { reason: 'reconnect', cause: 'CONNECTION_LIMIT' });
    expect(calls).toEqual([]);
  });
});

describe('reconnectRequest', () => {
  it('reads the server request, and nothing else', () => {
    expect(reconnectRequest({ reason: 'reconnect', cause: 'TOKEN_EXPIRES', deadline: 5 })).toEqual({
      cause: 'TOKEN_EXPIRES',
      deadline: 5,
    });
    expect(reconnectRequest({ reason: 'reconnect', cause: 'BORED' })).toBeNull();
    expect(reconnectRequest('reconnect')).toBeNull();
    expect(reconnectRequest(null)).toBeNull();
  });
});
