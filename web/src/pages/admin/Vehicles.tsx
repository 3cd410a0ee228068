import { useState, type SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorNotice, Field, Notice, VehicleStatusBadge } from '../../components/ui';
import { formErrors } from '../../errors';
import { formatMoney, parseMoneyInput } from '../../format';
import type { VehicleFieldsFragment, VehicleStatus } from '../../gql/graphql';
import { CreateVehicleMutation, UpdateVehicleMutation, VehiclesPageQuery } from '../../graphql/operations';
import { useI18n } from '../../i18n';
import { VEHICLE_STATUS } from '../../status';

const VEHICLE_FIELDS = ['brand', 'model', 'year', 'color', 'price'] as const;
type VehicleForm = Record<(typeof VEHICLE_FIELDS)[number], string>;
const EMPTY: VehicleForm = { brand: '', model: '', year: '', color: '', price: '' };

function VehicleFormFields({
  values,
  errors,
  onChange,
  prefix,
}: {
  values: VehicleForm;
  errors: Record<string, string>;
  onChange: (values: VehicleForm) => void;
  prefix: string;
}) {
  const { t } = useI18n();
  const labels = {
    brand: t('vehicle.brand'),
    model: t('vehicle.model'),
    year: t('vehicle.year'),
    color: t('vehicle.color'),
    price: t('vehicle.price'),
  };
  return (
    <div className="form-grid">
      {VEHICLE_FIELDS.map((name) => (
        <Field
          key={name}
          name={`${prefix}${name}`}
          label={labels[name]}
          value={values[name]}
          error={errors[name]}
          {...(name === 'year' ? { inputMode: 'numeric' as const } : {})}
          {...(name === 'price' ? { inputMode: 'decimal' as const, hint: 'R$ 149.800,00' } : {})}
          onChange={(value) => {
            onChange({ ...values, [name]: value });
          }}
        />
      ))}
    </div>
  );
}

export function AdminVehicles() {
  const { t, locale } = useI18n();
  const [status, setStatus] = useState<VehicleStatus>('AVAILABLE');
  const [result] = useQuery({ query: VehiclesPageQuery, variables: { status, first: 100 }, requestPolicy: 'cache-and-network' });
  const [creating, create] = useMutation(CreateVehicleMutation);
  const [form, setForm] = useState<VehicleForm>(EMPTY);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<string | null>(null);
  const apiErrors = formErrors(creating.error, VEHICLE_FIELDS);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const price = parseMoneyInput(form.price);
    const year = Number.parseInt(form.year, 10);
    const problems: Record<string, string> = {};
    if (price === null) {
      problems['price'] = 'R$ 149.800,00';
    }
    if (!Number.isInteger(year)) {
      problems['year'] = '2025';
    }
    setLocalErrors(problems);
    if (price === null || !Number.isInteger(year)) {
      return;
    }
    const answer = await create({ input: { brand: form.brand, model: form.model, color: form.color, year, price } });
    const vehicle = answer.data?.createVehicle;
    if (vehicle) {
      const name = `${vehicle.brand} ${vehicle.model} ${vehicle.year}`;
      // Shown in a role=status notice, which assistive technology reads out: no second announcement.
      setCreated(t('admin.vehicles.created', { vehicle: name }));
      setForm(EMPTY);
    }
  }

  const vehicles = result.data?.vehicles.edges.map((edge) => edge.node) ?? [];
  return (
    <section aria-labelledby="admin-vehicles-title">
      <h1 id="admin-vehicles-title">{t('admin.vehicles.title')}</h1>
      <form onSubmit={(event) => void submit(event)} className="card" aria-labelledby="new-vehicle-title" noValidate>
        <h2 id="new-vehicle-title">{t('admin.vehicles.new')}</h2>
        {apiErrors.general.length > 0 ? <ErrorNotice>{apiErrors.general.join(' ')}</ErrorNotice> : null}
        <VehicleFormFields values={form} errors={{ ...localErrors, ...apiErrors.fields }} onChange={setForm} prefix="new-" />
        <button type="submit" className="primary" disabled={creating.fetching}>
          {t('admin.vehicles.new')}
        </button>
        {created ? <Notice tone="success">{created}</Notice> : null}
      </form>
      <p className="field inline">
        <label htmlFor="vehicle-status">{t('admin.vehicles.show')}</label>
        <select
          id="vehicle-status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as VehicleStatus);
          }}
        >
          {(['AVAILABLE', 'RESERVED', 'SOLD'] as const).map((value) => (
            <option key={value} value={value}>
              {VEHICLE_STATUS[value][locale]}
            </option>
          ))}
        </select>
      </p>
      <ErrorNotice error={result.error} />
      <ul className="cards" data-testid="admin-vehicle-list">
        {vehicles.map((vehicle) => (
          <VehicleRow key={vehicle.id} vehicle={vehicle} />
        ))}
      </ul>
    </section>
  );
}

function VehicleRow({ vehicle }: { vehicle: VehicleFieldsFragment }) {
  const { t, locale } = useI18n();
  const [editing, setEditing] = useState(false);
  const [updating, update] = useMutation(UpdateVehicleMutation);
  const [form, setForm] = useState<VehicleForm>({
    brand: vehicle.brand,
    model: vehicle.model,
    year: String(vehicle.year),
    color: vehicle.color,
    price: vehicle.price,
  });
  const errors = formErrors(updating.error, VEHICLE_FIELDS);

  async function save(event: SyntheticEvent) {
    event.preventDefault();
    const price = parseMoneyInput(form.price);
    const answer = await update({
      id: vehicle.id,
      input: {
        brand: form.brand,
        model: form.model,
        color: form.color,
        year: Number.parseInt(form.year, 10),
        ...(price === null ? {} : { price }),
      },
    });
    if (answer.data?.updateVehicle) {
      setEditing(false);
    }
  }

  return (
    <li className="card" data-vehicle-id={vehicle.id}>
      <p>
        <strong>
          {vehicle.brand} {vehicle.model} {vehicle.year}
        </strong>{' '}
        · {vehicle.color} · {formatMoney(vehicle.price, locale)} · <VehicleStatusBadge status={vehicle.status} />
      </p>
      {editing ? (
        <form onSubmit={(event) => void save(event)} noValidate>
          {errors.general.length > 0 ? <ErrorNotice>{errors.general.join(' ')}</ErrorNotice> : null}
          <VehicleFormFields values={form} errors={errors.fields} onChange={setForm} prefix={`${vehicle.id}-`} />
          <button type="submit" className="primary" disabled={updating.fetching}>
            {t('common.save')}
          </button>{' '}
          <button
            type="button"
            onClick={() => {
              setEditing(false);
            }}
          >
            {t('common.cancel')}
          </button>
        </form>
      ) : vehicle.status === 'SOLD' ? null : (
        <button
          type="button"
          onClick={() => {
            setEditing(true);
          }}
          aria-label={`${t('common.edit')} ${vehicle.brand} ${vehicle.model} ${vehicle.year}`}
        >
          {t('common.edit')}
        </button>
      )}
    </li>
  );
}
