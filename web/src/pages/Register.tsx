import { useState, type SyntheticEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { useApp } from '../app-context';
import { ErrorNotice, Field, Loading, Notice } from '../components/ui';
import { formErrors } from '../errors';
import { MeQuery, RegisterClientMutation } from '../graphql/operations';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n/messages';
import { safeNext } from './Auth';

// The form's fields, named as the API's extensions.field names them.
const FIELDS = [
  ['name', 'register.name', 'name'],
  ['cpf', 'register.cpf', 'off'],
  ['phone', 'register.phone', 'tel'],
  ['address.zipCode', 'register.zipCode', 'postal-code'],
  ['address.street', 'register.street', 'address-line1'],
  ['address.number', 'register.number', 'off'],
  ['address.complement', 'register.complement', 'address-line2'],
  ['address.neighborhood', 'register.neighborhood', 'address-level3'],
  ['address.city', 'register.city', 'address-level2'],
  ['address.state', 'register.state', 'address-level1'],
] as const satisfies readonly (readonly [string, MessageKey, string])[];

type FieldName = (typeof FIELDS)[number][0];
const FIELD_NAMES: readonly string[] = FIELDS.map(([name]) => name);

export function Register() {
  const { t } = useI18n();
  const { session } = useApp();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [me] = useQuery({ query: MeQuery });
  const [registering, register] = useMutation(RegisterClientMutation);
  const [values, setValues] = useState<Record<FieldName, string>>(
    () => Object.fromEntries(FIELD_NAMES.map((name) => [name, ''])) as Record<FieldName, string>,
  );
  const errors = formErrors(registering.error, FIELD_NAMES);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const complement = values['address.complement'].trim();
    const answer = await register({
      input: {
        name: values.name,
        cpf: values.cpf,
        phone: values.phone,
        // The ID token of some pools (the local emulator's) carries no email: say which one we signed in with.
        email: session?.email ?? null,
        address: {
          street: values['address.street'],
          number: values['address.number'],
          neighborhood: values['address.neighborhood'],
          city: values['address.city'],
          state: values['address.state'],
          zipCode: values['address.zipCode'],
          complement: complement === '' ? null : complement,
        },
      },
    });
    if (answer.data?.registerClient) {
      const next = params.get('next');
      if (next) {
        await navigate(safeNext(next));
      }
    }
  }

  if (me.fetching && !me.data) {
    return <Loading />;
  }
  const client = registering.data?.registerClient ?? me.data?.me;
  return (
    <section aria-labelledby="register-title" className="narrow">
      <h1 id="register-title">{t('register.title')}</h1>
      <ErrorNotice error={me.error} />
      {client ? (
        <Notice tone="success">
          <span data-testid="registered">{t('register.done', { name: client.name, cpf: client.cpf })}</span>
        </Notice>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <p className="lead">{t('register.lead')}</p>
          {errors.general.length > 0 ? (
            <div className="notice notice-error" role="alert">
              <ul>
                {errors.general.map((message) => (
                  <li key={message}>{message}</li>
                ))}
              </ul>
            </div>
          ) : null}
          <Field name="email" label={t('auth.email')} value={session?.email ?? ''} onChange={() => undefined} readOnly />
          {FIELDS.map(([name, label, autoComplete]) => (
            <Field
              key={name}
              name={name}
              label={t(label)}
              autoComplete={autoComplete}
              {...(name === 'cpf' || name === 'address.zipCode' ? { inputMode: 'numeric' as const } : {})}
              value={values[name]}
              error={errors.fields[name]}
              required={name !== 'address.complement'}
              onChange={(value) => {
                setValues((previous) => ({ ...previous, [name]: value }));
              }}
            />
          ))}
          <button type="submit" className="primary" disabled={registering.fetching}>
            {t('register.submit')}
          </button>
        </form>
      )}
    </section>
  );
}
