import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';
import type { Session, SessionStore, SignOutReason } from './auth/session';
import type { LiveState } from './client';
import type { RuntimeConfig } from './config';

export interface AppState {
  config: RuntimeConfig;
  store: SessionStore;
  session: Session | null;
  endedBecause: SignOutReason | null;
  live: LiveState;
  isAdmin: boolean;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const context = useContext(AppContext);
  if (!context) {
    throw new Error('useApp outside AppContext');
  }
  return context;
}

// One polite live region for the whole app: what changed on its own (an order's status, a vehicle sold) is read
// out by screen readers, besides being shown.
const AnnounceContext = createContext<(message: string) => void>(() => undefined);

export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [message, setMessage] = useState('');
  const announce = useCallback((text: string) => {
    setMessage(text);
  }, []);
  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {message}
      </div>
    </AnnounceContext.Provider>
  );
}

export function useAnnounce(): (message: string) => void {
  return useContext(AnnounceContext);
}
