import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import { OrderView } from '../components/OrderView';
import { RefundList } from '../components/Refunds';
import { ErrorNotice, Loading, Notice, OrderStatusBadge } from '../components/ui';
import { formatDateTime, formatMoney } from '../format';
import type {
  InvoiceStatusSubscription as InvoiceStatusSubscriptionData,
  OrderStatus,
  OrderStatusSubscription as OrderStatusSubscriptionData,
} from '../gql/graphql';
import { CancelOrderMutation, InvoiceStatusSubscription, OrderQuery, OrderStatusSubscription, OrdersQuery } from '../graphql/operations';
import { useI18n } from '../i18n';
import { newest, newestInvoice } from '../order-merge';
import { canCancel, isFinal, ORDER_STATUS } from '../status';

/** One order, live: the subscription pushes every status change (the current state first, again on reconnect). */
export function OrderPage() {
  const { id = '' } = useParams();
  const { t } = useI18n();
  const [query] = useQuery({ query: OrderQuery, variables: { id }, requestPolicy: 'network-only' });
  // Two pushes can reach the page in another order than they were sent (the subscription's current state and a
  // change made meanwhile): each keeps the newest seen, never the last to arrive.
  const [live] = useSubscription(
    { query: OrderStatusSubscription, variables: { orderId: id } },
    (seen: OrderStatusSubscriptionData | undefined, pushed: OrderStatusSubscriptionData) => ({
      orderStatusChanged: newest(seen?.orderStatusChanged, pushed.orderStatusChanged) ?? pushed.orderStatusChanged,
    }),
  );
  const [invoiceLive] = useSubscription(
    { query: InvoiceStatusSubscription, variables: { orderId: id } },
    (seen: InvoiceStatusSubscriptionData | undefined, pushed: InvoiceStatusSubscriptionData) => ({
      invoiceStatusChanged:
        newestInvoice(seen?.invoiceStatusChanged, pushed.invoiceStatusChanged) ?? pushed.invoiceStatusChanged,
    }),
  );
  const [cancelling, cancel] = useMutation(CancelOrderMutation);
  const order = newest(query.data?.order, live.data?.orderStatusChanged, cancelling.data?.cancelOrder);

  if (query.fetching && !order) {
    return <Loading />;
  }
  if (!order) {
    return query.error ? <ErrorNotice error={query.error} /> : <Notice tone="warning">{t('order.notFound')}</Notice>;
  }
  const invoice = newestInvoice(order.invoice, invoiceLive.data?.invoiceStatusChanged);
  return (
    <article aria-labelledby="order-title">
      <h1 id="order-title">{t('order.title', { id: order.id })}</h1>
      <ErrorNotice error={query.error} />
      {/* A subscription error is shown; graphql-ws keeps retrying the connection behind it. */}
      {isFinal(order.status) ? null : <ErrorNotice error={live.error} />}
      <ErrorNotice error={invoiceLive.error} />
      <ErrorNotice error={cancelling.error} />
      <OrderView order={order} invoice={invoice} />
      {canCancel(order.status) ? (
        <button
          type="button"
          className="danger"
          disabled={cancelling.fetching}
          onClick={() => void cancel({ id: order.id })}
        >
          {cancelling.fetching ? t('order.cancelling') : t('order.cancel')}
        </button>
      ) : null}
    </article>
  );
}

const ORDERS_PAGE_SIZE = 20;

/** The caller's orders (every order, for staff), newest first, a page at a time, optionally one status only. */
export function OrdersList({ title, only, showClient = false }: { title: string; only?: OrderStatus; showClient?: boolean }) {
  const { t, locale } = useI18n();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [filter, setFilter] = useState<OrderStatus | 'ALL'>(only ?? 'ALL');
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">{title}</h1>
      {only ? null : (
        <p className="field inline">
          <label htmlFor="orders-filter">{t('orders.filter')}</label>
          <select
            id="orders-filter"
            value={filter}
            onChange={(event) => {
              setFilter(event.target.value as OrderStatus | 'ALL');
            }}
          >
            <option value="ALL">{t('orders.filter.all')}</option>
            {(Object.keys(ORDER_STATUS) as OrderStatus[]).map((status) => (
              <option key={status} value={status}>
                {ORDER_STATUS[status][locale]}
              </option>
            ))}
          </select>
        </p>
      )}
      <ul className="order-list" data-testid="order-list">
        {cursors.map((after, index) => (
          <OrdersChunk
            key={after ?? 'first'}
            after={after}
            filter={filter}
            showClient={showClient}
            isLast={index === cursors.length - 1}
            onMore={(cursor) => {
              setCursors((previous) => [...previous, cursor]);
            }}
          />
        ))}
      </ul>
    </section>
  );
}

function OrdersChunk({
  after,
  filter,
  showClient,
  isLast,
  onMore,
}: {
  after: string | null;
  filter: OrderStatus | 'ALL';
  showClient: boolean;
  isLast: boolean;
  onMore: (cursor: string) => void;
}) {
  const { t, locale } = useI18n();
  const [result, reexecute] = useQuery({ query: OrdersQuery, variables: { first: ORDERS_PAGE_SIZE, after } });
  // Orders move on by themselves (the saga); the list is read again while it is on screen.
  useEffect(() => {
    const timer = setInterval(() => {
      reexecute({ requestPolicy: 'network-only' });
    }, 5000);
    return () => {
      clearInterval(timer);
    };
  }, [reexecute]);
  if (result.error) {
    return (
      <li>
        <ErrorNotice error={result.error} />
      </li>
    );
  }
  if (!result.data) {
    return (
      <li>
        <Loading />
      </li>
    );
  }
  const orders = result.data.orders.edges.map((edge) => edge.node).filter((o) => filter === 'ALL' || o.status === filter);
  const pageInfo = result.data.orders.pageInfo;
  return (
    <>
      {orders.length === 0 && after === null ? <li>{t('orders.empty')}</li> : null}
      {orders.map((order) => (
        <li key={order.id} className="card order-row" data-order-id={order.id}>
          <p>
            <Link to={`/pedidos/${order.id}`} aria-label={`${t('order.open')} ${order.id}`}>
              {order.id}
            </Link>{' '}
            <OrderStatusBadge status={order.status} />
          </p>
          <p>
            {formatDateTime(order.placedAt, locale)} · {formatMoney(order.total, locale)} ·{' '}
            {order.items.map((item) => `${item.quantity}× ${item.description}`).join(', ')}
          </p>
          {showClient && order.client ? (
            <p>
              {t('order.client')}: {order.client.name} ({order.client.email})
            </p>
          ) : null}
          {order.payment ? (
            <p>
              {t('order.payment.code')}: <code>{order.payment.code}</code>
            </p>
          ) : null}
          {order.payment && order.payment.refunds.length > 0 ? (
            <div>
              <p>{t('order.refunds')}:</p>
              <RefundList refunds={order.payment.refunds} />
            </div>
          ) : null}
          {order.invoice?.status === 'CONFIRMED' && order.invoice.url ? (
            <p>
              <a href={order.invoice.url} target="_blank" rel="noreferrer">
                {t('order.invoice.open')} {order.invoice.number}
              </a>
            </p>
          ) : null}
          <details>
            <summary>{t('order.history')}</summary>
            <ol className="history">
              {order.history.map((step, index) => (
                <li key={`${step.at}-${index}`}>
                  <time dateTime={step.at}>{formatDateTime(step.at, locale)}</time> — {ORDER_STATUS[step.status][locale]}{' '}
                  <small>({step.event})</small>
                </li>
              ))}
            </ol>
          </details>
        </li>
      ))}
      {isLast && pageInfo.hasNextPage && pageInfo.endCursor ? (
        <li>
          <button
            type="button"
            onClick={() => {
              if (pageInfo.endCursor) {
                onMore(pageInfo.endCursor);
              }
            }}
          >
            {t('orders.loadMore')}
          </button>
        </li>
      ) : null}
    </>
  );
}
