import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import { useAnnounce, useApp } from '../app-context';
import { ErrorNotice, Loading, Notice, VehicleStatusBadge } from '../components/ui';
import { formatMoney } from '../format';
import type { VehicleAvailabilitySubscription as VehicleAvailabilitySubscriptionData, VehicleStatus } from '../gql/graphql';
import {
  MeQuery,
  PlaceOrderMutation,
  VehicleAvailabilitySubscription,
  VehicleQuery,
  VehiclesPageQuery,
} from '../graphql/operations';
import { useI18n } from '../i18n';
import { VEHICLE_STATUS } from '../status';

export const VEHICLE_PAGE_SIZE = 6;

interface LiveChanges {
  latest: VehicleAvailabilitySubscriptionData['vehicleAvailabilityChanged'];
  statuses: Readonly<Record<string, VehicleStatus>>;
}

/** Vehicles in one status, cheapest first, a page at a time (Relay cursors); the for-sale list changes live. */
export function VehicleList({ status }: { status: VehicleStatus }) {
  const { t, locale } = useI18n();
  const { session } = useApp();
  const announce = useAnnounce();
  // The cursor each page starts after: [null] is the first page.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [result, reexecute] = useQuery({
    query: VehiclesPageQuery,
    variables: { status, first: VEHICLE_PAGE_SIZE, after },
  });
  // Every availability change seen since the page opened, by vehicle: the list shows each vehicle as it is now.
  const [live] = useSubscription(
    { query: VehicleAvailabilitySubscription, pause: session === null },
    (seen: LiveChanges | undefined, data: VehicleAvailabilitySubscriptionData): LiveChanges => {
      const change = data.vehicleAvailabilityChanged;
      return { latest: change, statuses: { ...seen?.statuses, [change.id]: change.status } };
    },
  );
  const edges = useMemo(() => result.data?.vehicles.edges ?? [], [result.data]);
  const statuses = live.data?.statuses;
  const visible = edges.filter((edge) => (statuses?.[edge.node.id] ?? edge.node.status) === status);

  const latest = live.data?.latest;
  const handled = useRef(latest);
  useEffect(() => {
    if (!latest || latest === handled.current) {
      return;
    }
    handled.current = latest;
    const shown = edges.find((edge) => edge.node.id === latest.id)?.node;
    if (shown && latest.status !== status) {
      // It left this list (reserved or sold by someone): tell assistive technology too.
      announce(
        t('vehicles.left', { vehicle: `${shown.brand} ${shown.model}`, status: VEHICLE_STATUS[latest.status][locale] }),
      );
    } else if (!shown && latest.status === status) {
      // It joined this list (released, or sold): this page may now hold it.
      reexecute({ requestPolicy: 'network-only' });
    }
  }, [latest, edges, status, announce, t, locale, reexecute]);

  const pageInfo = result.data?.vehicles.pageInfo;
  const title = status === 'AVAILABLE' ? t('vehicles.forSale.title') : t('vehicles.sold.title');
  return (
    <section aria-labelledby="vehicles-title">
      <h1 id="vehicles-title">{title}</h1>
      {status === 'AVAILABLE' ? <p className="lead">{t('vehicles.forSale.lead')}</p> : null}
      {status === 'AVAILABLE' && session === null ? <p className="hint">{t('vehicles.liveHint')}</p> : null}
      <ErrorNotice error={result.error} />
      <ErrorNotice error={live.error} />
      {result.fetching && !result.data ? <Loading /> : null}
      {result.data && visible.length === 0 ? <p>{t('vehicles.empty')}</p> : null}
      <ul className="cards" data-testid="vehicle-list" aria-busy={result.fetching}>
        {visible.map(({ node }) => (
          <li key={node.id} className="card vehicle-card" data-vehicle-id={node.id}>
            <h2>
              <Link to={`/veiculos/${node.id}`}>
                {node.brand} {node.model}
              </Link>
            </h2>
            <p className="price" data-testid="vehicle-price" data-price={node.price}>
              {formatMoney(node.price, locale)}
            </p>
            <p>
              {node.year} · {node.color} · <VehicleStatusBadge status={node.status} />
            </p>
          </li>
        ))}
      </ul>
      <nav className="pager" aria-label={title}>
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => {
            setCursors((previous) => previous.slice(0, -1));
          }}
        >
          {t('common.previous')}
        </button>
        <span aria-live="polite" data-testid="page-number">
          {t('common.page', { page: cursors.length })}
        </span>
        <button
          type="button"
          disabled={!pageInfo?.hasNextPage || !pageInfo.endCursor}
          onClick={() => {
            const next = pageInfo?.endCursor;
            if (next) {
              setCursors((previous) => [...previous, next]);
            }
          }}
        >
          {t('common.next')}
        </button>
      </nav>
    </section>
  );
}

export function VehicleDetail() {
  const { id = '' } = useParams();
  const { t, locale } = useI18n();
  const { session } = useApp();
  const navigate = useNavigate();
  const [result] = useQuery({ query: VehicleQuery, variables: { id } });
  const [me] = useQuery({ query: MeQuery, pause: session === null });
  const [placing, placeOrder] = useMutation(PlaceOrderMutation);
  // One key per purchase attempt: a retry after a lost answer returns the same order instead of a second one.
  const idempotencyKey = useRef<string>(crypto.randomUUID());
  const vehicle = result.data?.vehicle;

  async function buy() {
    const answer = await placeOrder({ input: { vehicleId: id, idempotencyKey: idempotencyKey.current } });
    const order = answer.data?.placeOrder;
    if (order) {
      idempotencyKey.current = crypto.randomUUID();
      await navigate(`/pedidos/${order.id}`);
    }
  }

  if (result.fetching && !result.data) {
    return <Loading />;
  }
  if (result.error) {
    return <ErrorNotice error={result.error} />;
  }
  if (!vehicle) {
    return <Notice tone="warning">{t('vehicle.notFound')}</Notice>;
  }
  return (
    <article aria-labelledby="vehicle-title" className="vehicle-detail">
      <h1 id="vehicle-title">{t('vehicle.title', { brand: vehicle.brand, model: vehicle.model, year: vehicle.year })}</h1>
      <dl className="facts">
        <div>
          <dt>{t('vehicle.price')}</dt>
          <dd className="price" data-testid="vehicle-price">
            {formatMoney(vehicle.price, locale)}
          </dd>
        </div>
        <div>
          <dt>{t('vehicle.color')}</dt>
          <dd>{vehicle.color}</dd>
        </div>
        <div>
          <dt>{t('vehicle.year')}</dt>
          <dd>{vehicle.year}</dd>
        </div>
        <div>
          <dt>{t('vehicle.status')}</dt>
          <dd>
            <VehicleStatusBadge status={vehicle.status} />
          </dd>
        </div>
      </dl>
      <ErrorNotice error={placing.error} />
      <ErrorNotice error={me.error} />
      {vehicle.status !== 'AVAILABLE' ? (
        <Notice tone="warning">{t('vehicle.unavailable')}</Notice>
      ) : session === null ? (
        <Link className="button" to={`/entrar?next=/veiculos/${vehicle.id}`}>
          {t('vehicle.signInToBuy')}
        </Link>
      ) : me.data && !me.data.me ? (
        <Link className="button" to={`/cadastro?next=/veiculos/${vehicle.id}`}>
          {t('vehicle.registerToBuy')}
        </Link>
      ) : (
        <button type="button" className="primary" disabled={placing.fetching || me.fetching} onClick={() => void buy()}>
          {placing.fetching ? t('vehicle.buying') : t('vehicle.buy')}
        </button>
      )}
    </article>
  );
}
