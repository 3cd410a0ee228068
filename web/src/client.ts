// The urql client: HTTP for queries and mutations, the standard graphql-ws client for subscriptions, Cognito
// tokens on both, refreshed when they expire or the API refuses them, and persisted documents when configured.
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { DocumentNode } from 'graphql';
import type { Session, SessionStore } from './auth/session';
import { isExpired } from './auth/token';
import type { RuntimeConfig } from './config';
import { isUnauthenticated } from './errors';

export type LiveState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

export interface Connection {
  client: Client;
  dispose: () => void;
}

/** Refreshes a session's tokens with Cognito; loaded on first need (it brings the Cognito SDK). */
export type Refresher = (config: RuntimeConfig, session: Session) => Promise<Session>;

const refreshWithCognito: Refresher = async (config, session) => {
  const cognito = await import('./auth/cognito');
  return cognito.refresh(config.cognito, session);
};

/**
 * One refresh at a time for the whole app: concurrent requests that all find the token expired wait for the same
 * one. On refusal the session ends with reason "expired" and the app sends the person to sign in again.
 */
export function makeTokenSource(config: RuntimeConfig, store: SessionStore, refresher: Refresher = refreshWithCognito) {
  let inFlight: Promise<void> | null = null;

  async function refreshNow(): Promise<void> {
    const session = store.session;
    if (!session) {
      return;
    }
    inFlight ??= refresher(config, session)
      .then((fresh) => {
        store.replaceTokens(fresh.idToken, fresh.refreshToken);
      })
      .catch(() => {
        store.signOut('expired');
      })
      .finally(() => {
        inFlight = null;
      });
    await inFlight;
  }

  /** The current ID token, refreshed first if it has expired; null when nobody is signed in. */
  async function currentToken(): Promise<string | null> {
    const session = store.session;
    if (session && isExpired(session.idToken)) {
      await refreshNow();
    }
    return store.session?.idToken ?? null;
  }

  return { refreshNow, currentToken };
}

/**
 * The server asks a client to reconnect before its connection reaches API Gateway's two-hour limit or its token
 * expires: a graphql-transport-ws `ping` whose payload is `{ reason: 'reconnect', cause, deadline }` (see the
 * README, "Connections that stay up"). Null for any other ping.
 */
export interface ReconnectRequest {
  cause: 'TOKEN_EXPIRES' | 'CONNECTION_LIMIT';
  deadline: number;
}

export function reconnectRequest(payload: unknown): ReconnectRequest | null {
  if (typeof payload !== 'object' || payload === null) {
    return null;
  }
  const { reason, cause, deadline } = payload as Record<string, unknown>;
  if (reason !== 'reconnect' || (cause !== 'TOKEN_EXPIRES' && cause !== 'CONNECTION_LIMIT')) {
    return null;
  }
  return { cause, deadline: typeof deadline === 'number' ? deadline : 0 };
}

/** graphql-ws's "Client Restart" close: not fatal, so the client connects again and subscribes again. */
export const CLIENT_RESTART = 4205;

/**
 * What the client does with a server's ping: on a reconnect request it refreshes the token first if that is the
 * cause, then closes the socket with 4205; graphql-ws connects again (connectionParams reads the new token) and
 * subscribes again, and the server sends each order's current state first.
 */
export function reconnectOnRequest(
  tokens: { refreshNow: () => Promise<void> },
  restart: () => void,
): (received: boolean, payload: unknown) => Promise<void> {
  return async (received, payload) => {
    const request = received ? reconnectRequest(payload) : null;
    if (!request) {
      return;
    }
    if (request.cause === 'TOKEN_EXPIRES') {
      await tokens.refreshNow();
    }
    restart();
  };
}

/** The hash the client preset put in each generated document (persisted-documents.json's key). */
export function documentHash(document: DocumentNode): string {
  const meta = (document as DocumentNode & { __meta__?: { hash?: unknown } }).__meta__;
  const hash = meta?.hash;
  if (typeof hash !== 'string') {
    throw new Error('this document has no persisted-document hash: run `npm run codegen`');
  }
  // "sha256:<hex>" in the manifest (GraphQL over HTTP's document id); APQ's sha256Hash is the bare hex.
  return hash.replace(/^sha256:/, '');
}

export function createConnection(
  config: RuntimeConfig,
  store: SessionStore,
  onLiveState: (state: LiveState) => void,
): Connection {
  const tokens = makeTokenSource(config, store);
  let everConnected = false;
  let socket: WebSocket | null = null;
  const onPing = reconnectOnRequest(tokens, () => {
    if (socket?.readyState === WebSocket.OPEN) {
      socket.close(CLIENT_RESTART, 'Client Restart');
    }
  });

  const ws: WsClient = createWsClient({
    url: config.wsUrl,
    lazy: true,
    // A dropped connection is retried for as long as someone is watching; graphql-ws subscribes again on
    // reconnect and the server sends the current state first, so nothing is missed.
    retryAttempts: Number.MAX_SAFE_INTEGER,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5000)));
    },
    keepAlive: 30_000,
    // Read on every (re)connection: a reconnect after a refresh carries the new token.
    connectionParams: async () => {
      const token = await tokens.currentToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    on: {
      opened: (opened) => {
        socket = opened as WebSocket;
      },
      ping: (received, payload) => {
        void onPing(received, payload);
      },
      connecting: () => {
        onLiveState(everConnected ? 'reconnecting' : 'connecting');
      },
      connected: () => {
        everConnected = true;
        onLiveState('connected');
      },
      closed: () => {
        onLiveState(everConnected ? 'reconnecting' : 'idle');
      },
    },
  });

  const exchanges: Exchange[] = [
    cacheExchange,
    authExchange((utils) =>
      Promise.resolve({
        addAuthToOperation(operation) {
          const token = store.session?.idToken;
          return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
        },
        willAuthError() {
          const session = store.session;
          return session !== null && isExpired(session.idToken);
        },
        didAuthError(error) {
          return store.session !== null && isUnauthenticated(error);
        },
        refreshAuth: tokens.refreshNow,
      }),
    ),
  ];
  if (config.trustedDocuments) {
    exchanges.push(
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        preferGetForPersistedQueries: false,
        generateHash: (_query, document) => Promise.resolve(documentHash(document)),
      }),
    );
  }
  exchanges.push(
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        // A persisted subscription carries its hash in extensions and no text.
        const input = { ...request, query: request.query ?? '' };
        return {
          subscribe(sink) {
            const unsubscribe = ws.subscribe(input, {
              next: (result) => {
                sink.next(result as Parameters<typeof sink.next>[0]);
              },
              error: (error: unknown) => {
                sink.error(error);
              },
              complete: () => {
                sink.complete();
              },
            });
            return { unsubscribe };
          },
        };
      },
    }),
  );

  const client = new Client({ url: config.apiUrl, exchanges, preferGetMethod: false, requestPolicy: 'cache-and-network' });
  return {
    client,
    dispose: () => {
      void ws.dispose();
    },
  };
}
