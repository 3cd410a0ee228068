import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionStore } from './auth/session';
import { createConnection } from './client';
import type { RuntimeConfig } from './config';
import manifest from './gql/persisted-documents.json';
import { VehiclesPageQuery } from './graphql/operations';

const base: RuntimeConfig = {
  apiUrl: 'http://api.test/graphql',
  wsUrl: 'ws://ws.test',
  cognito: { region: 'us-east-1', userPoolId: 'us-east-1_x', clientId: 'c' },
  trustedDocuments: false,
  environment: 'test',
};

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

interface SentRequest {
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

async function send(config: RuntimeConfig, token?: string): Promise<SentRequest> {
  const fetchMock = vi.fn<(url: string, init: RequestInit) => Promise<Response>>(() =>
    Promise.resolve(
      new Response(JSON.stringify({ data: { vehicles: { __typename: 'VehicleConnection', edges: [], pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null } } } }), {
        headers: { 'content-type': 'application/json' },
      }),
    ),
  );
  vi.stubGlobal('fetch', fetchMock);
  // graphql-ws wants a WebSocket implementation when created (Node 20 has none); lazy, it never opens one here.
  vi.stubGlobal('WebSocket', function NeverOpened() {
    throw new Error('no WebSocket in this test');
  });
  const store = new SessionStore(memoryStorage());
  if (token) {
    store.signIn({ email: 'a@example.com', username: 'a@example.com', idToken: token, refreshToken: 'r' });
  }
  const connection = createConnection(config, store, () => undefined);
  const result = await connection.client
    .query(VehiclesPageQuery, { status: 'AVAILABLE', first: 6 }, { requestPolicy: 'network-only' })
    .toPromise();
  connection.dispose();
  expect(result.error).toBeUndefined();
  const init = fetchMock.mock.calls[0]?.[1];
  return {
    body: JSON.parse(init?.body as string) as Record<string, unknown>,
    headers: Object.fromEntries(new Headers(init?.headers).entries()),
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('requests', () => {
  it('go by full text by default, with the bearer token', async () => {
    const token = `h.${Buffer.from(JSON.stringify({ sub: 'u', exp: Date.now() / 1000 + 3600 })).toString('base64url')}.s`;
    const { body, headers } = await send(base, token);
    expect(body['query']).toContain('query VehiclesPage');
    expect(body['extensions']).toBeUndefined();
    expect(headers['authorization']).toBe(`Bearer ${token}`);
  });

  it('go by their persisted-document hash alone when trustedDocuments is on', async () => {
    const { body, headers } = await send({ ...base, trustedDocuments: true });
    expect(body['query']).toBeUndefined();
    const hash = (body['extensions'] as { persistedQuery: { version: number; sha256Hash: string } }).persistedQuery;
    expect(hash.version).toBe(1);
    // The manifest the build ships maps that hash to the document's text.
    const text = (manifest as Record<string, string>)[`sha256:${hash.sha256Hash}`];
    expect(text).toContain('query VehiclesPage');
    expect(headers['authorization']).toBeUndefined();
  });
});
