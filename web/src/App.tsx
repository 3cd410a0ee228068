import { lazy, Suspense, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { Provider as UrqlProvider } from 'urql';
import { AnnouncerProvider, AppContext, useApp, type AppState } from './app-context';
import { identityOf, isAdmin, SessionStore } from './auth/session';
import { createConnection, type Connection, type LiveState } from './client';
import { Loading, Notice } from './components/ui';
import type { RuntimeConfig } from './config';
import { I18nProvider, useI18n } from './i18n';
import { Layout } from './Layout';
import { SignIn, SignUp } from './pages/Auth';
import { AdminProducts } from './pages/admin/Products';
import { AdminVehicles } from './pages/admin/Vehicles';
import { OrderPage, OrdersList } from './pages/Orders';
import { Products } from './pages/Products';
import { Register } from './pages/Register';
import { VehicleDetail, VehicleList } from './pages/Vehicles';

// GraphiQL is most of the app's weight: its own chunk, fetched when the explorer opens.
const Explorer = lazy(() => import('./pages/admin/Explorer'));

function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useApp();
  const location = useLocation();
  if (!session) {
    return <Navigate to={`/entrar?reason=required&next=${encodeURIComponent(location.pathname)}`} replace />;
  }
  return children;
}

function RequireAdmin({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { isAdmin: admin } = useApp();
  return (
    <RequireSession>
      {admin ? children : <Notice tone="warning">{t('admin.forbidden')}</Notice>}
    </RequireSession>
  );
}

function AppRoutes() {
  const { t } = useI18n();
  return (
    <Routes>
      <Route path="/" element={<VehicleList key="AVAILABLE" status="AVAILABLE" />} />
      <Route path="/vendidos" element={<VehicleList key="SOLD" status="SOLD" />} />
      <Route path="/veiculos/:id" element={<VehicleDetail />} />
      <Route path="/entrar" element={<SignIn />} />
      <Route path="/criar-conta" element={<SignUp />} />
      <Route path="/produtos" element={<RequireSession><Products /></RequireSession>} />
      <Route path="/cadastro" element={<RequireSession><Register /></RequireSession>} />
      <Route path="/pedidos" element={<RequireSession><OrdersList title={t('orders.mine.title')} /></RequireSession>} />
      <Route path="/pedidos/:id" element={<RequireSession><OrderPage /></RequireSession>} />
      <Route path="/admin/veiculos" element={<RequireAdmin><AdminVehicles /></RequireAdmin>} />
      <Route path="/admin/produtos" element={<RequireAdmin><AdminProducts /></RequireAdmin>} />
      <Route
        path="/admin/pedidos"
        element={<RequireAdmin><OrdersList title={t('orders.all.title')} showClient /></RequireAdmin>}
      />
      <Route
        path="/admin/aguardando-estoque"
        element={
          <RequireAdmin>
            <OrdersList key="PENDING_STOCK" title={t('orders.pending.title')} only="PENDING_STOCK" showClient />
          </RequireAdmin>
        }
      />
      <Route
        path="/admin/explorador"
        element={
          <RequireAdmin>
            <Suspense fallback={<Loading />}>
              <Explorer />
            </Suspense>
          </RequireAdmin>
        }
      />
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
  );
}

export function App({ config }: { config: RuntimeConfig }) {
  const store = useMemo(() => new SessionStore(window.localStorage), []);
  const { session, endedBecause } = useSyncExternalStore(store.subscribe, store.getState);
  const [live, setLive] = useState<LiveState>('idle');
  // A new client (and WebSocket) for each signed-in identity, so that one user's cache never shows another's data.
  // A token refresh keeps the identity, and the client.
  const identity = identityOf(session);
  const [connection, setConnection] = useState<Connection | null>(null);
  useEffect(() => {
    const fresh = createConnection(config, store, setLive);
    // The client owns a WebSocket: an external resource made (and closed) per identity, so an effect makes it.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setConnection(fresh);
    return () => {
      fresh.dispose();
    };
  }, [config, store, identity]);
  if (!connection) {
    return null;
  }
  const state: AppState = { config, store, session, endedBecause, live, isAdmin: isAdmin(session) };
  return (
    <I18nProvider>
      <AppContext.Provider value={state}>
        <UrqlProvider value={connection.client}>
          <AnnouncerProvider>
            <BrowserRouter>
              <Layout>
                <AppRoutes />
              </Layout>
            </BrowserRouter>
          </AnnouncerProvider>
        </UrqlProvider>
      </AppContext.Provider>
    </I18nProvider>
  );
}
