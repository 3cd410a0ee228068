import { useState, type SyntheticEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useApp } from '../app-context';
import { Field, Notice } from '../components/ui';
import { useI18n } from '../i18n';

/** Where to go after signing in: the page that sent the person here, if it is one of ours. */
export function safeNext(next: string | null, fallback = '/'): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : fallback;
}

function cognitoMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function SignIn() {
  const { t } = useI18n();
  const { config, store, endedBecause } = useApp();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [mustConfirm, setMustConfirm] = useState(false);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const cognito = await import('../auth/cognito');
      const session = await cognito.signIn(config.cognito, email.trim().toLowerCase(), password);
      store.signIn(session);
      await navigate(safeNext(params.get('next')));
    } catch (caught) {
      const code = (caught as { code?: string }).code;
      setMustConfirm(code === 'UserNotConfirmedException');
      setError(cognitoMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="signin-title" className="narrow">
      <h1 id="signin-title">{t('auth.signIn.title')}</h1>
      {endedBecause === 'expired' ? (
        <div className="notice notice-warning" role="alert" data-testid="session-expired">
          {t('auth.expired')}
        </div>
      ) : params.get('reason') === 'required' ? (
        <Notice>{t('auth.required')}</Notice>
      ) : null}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field name="email" label={t('auth.email')} type="email" autoComplete="username" value={email} onChange={setEmail} required />
        <Field
          name="password"
          label={t('auth.password')}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={setPassword}
          required
        />
        {error ? (
          <div className="notice notice-error" role="alert">
            {error}
          </div>
        ) : null}
        {mustConfirm ? <ConfirmCode email={email.trim().toLowerCase()} password={password} /> : null}
        <button type="submit" className="primary" disabled={busy}>
          {t('auth.signIn.submit')}
        </button>
      </form>
      <p>
        <Link to="/criar-conta">{t('auth.signIn.noAccount')}</Link>
      </p>
    </section>
  );
}

/** Cognito's email confirmation step: the code it sent, then sign in with the password just chosen. */
function ConfirmCode({ email, password }: { email: string; password: string }) {
  const { t } = useI18n();
  const { config, store } = useApp();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      const cognito = await import('../auth/cognito');
      await cognito.confirmSignUp(config.cognito, email, code.trim());
      store.signIn(await cognito.signIn(config.cognito, email, password));
      await navigate(safeNext(params.get('next'), '/cadastro'));
    } catch (caught) {
      setError(cognitoMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card" aria-labelledby="confirm-title" role="group">
      <h2 id="confirm-title">{t('auth.confirm.title')}</h2>
      <p>{t('auth.confirm.lead', { email })}</p>
      {config.environment === 'local' ? <p className="hint">{t('auth.confirm.localHint')}</p> : null}
      <Field
        name="code"
        label={t('auth.confirm.code')}
        inputMode="numeric"
        autoComplete="one-time-code"
        value={code}
        onChange={setCode}
        required
      />
      {error ? (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      ) : null}
      <button type="button" className="primary" disabled={busy || code.trim() === ''} onClick={() => void confirm()}>
        {t('auth.confirm.submit')}
      </button>
    </div>
  );
}

export function SignUp() {
  const { t } = useI18n();
  const { config, store } = useApp();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [awaitingCode, setAwaitingCode] = useState(false);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const address = email.trim().toLowerCase();
    try {
      const cognito = await import('../auth/cognito');
      const { confirmed } = await cognito.signUp(config.cognito, address, password);
      if (confirmed) {
        store.signIn(await cognito.signIn(config.cognito, address, password));
        await navigate('/cadastro');
      } else {
        setAwaitingCode(true);
      }
    } catch (caught) {
      setError(cognitoMessage(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="signup-title" className="narrow">
      <h1 id="signup-title">{t('auth.signUp.title')}</h1>
      {awaitingCode ? (
        <ConfirmCode email={email.trim().toLowerCase()} password={password} />
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Field name="email" label={t('auth.email')} type="email" autoComplete="email" value={email} onChange={setEmail} required />
          <Field
            name="password"
            label={t('auth.password')}
            type="password"
            autoComplete="new-password"
            hint={t('auth.passwordHint')}
            value={password}
            onChange={setPassword}
            required
          />
          {error ? (
            <div className="notice notice-error" role="alert">
              {error}
            </div>
          ) : null}
          <button type="submit" className="primary" disabled={busy}>
            {t('auth.signUp.submit')}
          </button>
        </form>
      )}
    </section>
  );
}
