// The signed-in user's Cognito tokens, kept in localStorage so that a reload keeps the session, and the one place
// that says who is signed in. The urql client and the WebSocket read the current token from here on every use.
import { decodeClaims, groupsOf } from './token';

export interface Session {
  email: string;
  /** Cognito's username for the user (the sub when users sign in by email): needed to refresh. */
  username: string;
  idToken: string;
  refreshToken: string;
}

export type SignOutReason = 'expired' | 'signedOut';

export interface SessionState {
  session: Session | null;
  /** Why the last session ended, until the person signs in again. */
  endedBecause: SignOutReason | null;
}

const STORAGE_KEY = 'vp.session';

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const record = value as Record<string, unknown>;
  return ['email', 'username', 'idToken', 'refreshToken'].every((key) => typeof record[key] === 'string');
}

export class SessionStore {
  private state: SessionState;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>) {
    this.state = { session: SessionStore.read(storage), endedBecause: null };
  }

  private static read(storage: Pick<Storage, 'getItem'>): Session | null {
    try {
      const parsed: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null');
      return isSession(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }

  getState = (): SessionState => this.state;

  get session(): Session | null {
    return this.state.session;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  signIn(session: Session): void {
    this.storage.setItem(STORAGE_KEY, JSON.stringify(session));
    this.update({ session, endedBecause: null });
  }

  /** New tokens for the same user (a refresh): the identity, and so the client's cache, stays. */
  replaceTokens(idToken: string, refreshToken?: string): void {
    const current = this.state.session;
    if (!current) {
      return;
    }
    this.signIn({ ...current, idToken, refreshToken: refreshToken ?? current.refreshToken });
  }

  signOut(reason: SignOutReason): void {
    this.storage.removeItem(STORAGE_KEY);
    this.update({ session: null, endedBecause: reason });
  }

  private update(next: SessionState): void {
    this.state = next;
    for (const listener of this.listeners) {
      listener();
    }
  }
}

export function isAdmin(session: Session | null): boolean {
  return session !== null && groupsOf(session.idToken).includes('admin');
}

/** Who the session is for, stable across refreshes: the token's subject. */
export function identityOf(session: Session | null): string {
  if (!session) {
    return 'anonymous';
  }
  return decodeClaims(session.idToken)?.sub ?? session.username;
}
