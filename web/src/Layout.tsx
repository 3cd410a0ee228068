import { useEffect, type ReactNode } from 'react';
import { Link, NavLink, useLocation, useNavigate } from 'react-router';
import { useApp } from './app-context';
import { useI18n } from './i18n';
import { LOCALES, type Locale } from './i18n/messages';

function LiveIndicator() {
  const { t } = useI18n();
  const { live } = useApp();
  if (live === 'connected') {
    return (
      <span className="live live-on" data-live={live}>
        {t('common.live.connected')}
      </span>
    );
  }
  if (live === 'reconnecting') {
    return (
      <span className="live live-off" role="status" data-live={live}>
        {t('common.live.reconnecting')}
      </span>
    );
  }
  return null;
}

export function Layout({ children }: { children: ReactNode }) {
  const { t, locale, setLocale } = useI18n();
  const { session, isAdmin, store, endedBecause } = useApp();
  const navigate = useNavigate();
  const location = useLocation();

  // A session Cognito refused to refresh ends here: the person is asked to sign in again, then comes back.
  useEffect(() => {
    if (endedBecause === 'expired' && location.pathname !== '/entrar') {
      void navigate(`/entrar?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
  }, [endedBecause, location.pathname, location.search, navigate]);

  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('nav.menu')}>
          <ul>
            <li>
              <NavLink to="/" end>
                {t('nav.forSale')}
              </NavLink>
            </li>
            <li>
              <NavLink to="/vendidos">{t('nav.sold')}</NavLink>
            </li>
            <li>
              <NavLink to="/produtos">{t('nav.products')}</NavLink>
            </li>
            {session ? (
              <>
                <li>
                  <NavLink to="/pedidos" end>
                    {t('nav.myOrders')}
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/cadastro">{t('nav.register')}</NavLink>
                </li>
              </>
            ) : null}
            {isAdmin ? (
              <>
                <li>
                  <NavLink to="/admin/veiculos">{t('nav.adminVehicles')}</NavLink>
                </li>
                <li>
                  <NavLink to="/admin/produtos">{t('nav.adminProducts')}</NavLink>
                </li>
                <li>
                  <NavLink to="/admin/pedidos">{t('nav.adminOrders')}</NavLink>
                </li>
                <li>
                  <NavLink to="/admin/aguardando-estoque">{t('nav.adminPending')}</NavLink>
                </li>
                <li>
                  <NavLink to="/admin/explorador">{t('nav.explorer')}</NavLink>
                </li>
              </>
            ) : null}
          </ul>
        </nav>
        <div className="account">
          <LiveIndicator />
          <label className="visually-hidden" htmlFor="locale">
            {t('nav.language')}
          </label>
          <select
            id="locale"
            value={locale}
            onChange={(event) => {
              setLocale(event.target.value as Locale);
            }}
          >
            {LOCALES.map((value) => (
              <option key={value} value={value}>
                {value === 'pt-BR' ? 'Português (Brasil)' : 'English'}
              </option>
            ))}
          </select>
          {session ? (
            <>
              <span className="who" data-testid="signed-in-as">
                {t('common.signedInAs', { email: session.email })}
              </span>
              <button
                type="button"
                onClick={() => {
                  store.signOut('signedOut');
                  void navigate('/');
                }}
              >
                {t('nav.signOut')}
              </button>
            </>
          ) : (
            <>
              <NavLink to="/entrar">{t('nav.signIn')}</NavLink>
              <NavLink to="/criar-conta">{t('nav.signUp')}</NavLink>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
