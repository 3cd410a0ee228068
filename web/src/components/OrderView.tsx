import type { OrderFieldsFragment } from '../gql/graphql';
import { formatDateTime, formatMoney } from '../format';
import { useI18n } from '../i18n';
import { cancellationReasonLabel, paymentStatusLabel, ORDER_STATUS } from '../status';
import { PixCharge } from './PixCharge';
import { RefundList } from './Refunds';
import { InvoiceStatusBadge, ItemStatusBadge, OrderStatusBadge } from './ui';

export type OrderData = OrderFieldsFragment;
export type InvoiceData = NonNullable<OrderFieldsFragment['invoice']>;

/** An order whole: status (announced when it changes), payment (the Pix to pay, the refunds), items, invoice and
 * history. */
export function OrderView({ order, invoice }: { order: OrderData; invoice: InvoiceData | null }) {
  const { t, locale } = useI18n();
  return (
    <div className="order" data-order-id={order.id}>
      <p className="order-status" role="status" aria-live="polite" aria-atomic="true" data-testid="order-status">
        <span>{t('order.status')}: </span>
        <OrderStatusBadge status={order.status} />
        {order.cancellationReason ? (
          <span className="reason">
            {' '}
            ({t('order.reason')}: {cancellationReasonLabel(order.cancellationReason, locale)})
          </span>
        ) : null}
      </p>
      <dl className="facts">
        <div>
          <dt>{t('order.total')}</dt>
          <dd data-testid="order-total">{formatMoney(order.total, locale)}</dd>
        </div>
        <div>
          <dt>{t('order.placedAt')}</dt>
          <dd>{formatDateTime(order.placedAt, locale)}</dd>
        </div>
        {order.refundOwed ? (
          <div>
            <dt>{t('order.refundOwed')}</dt>
            <dd>{formatMoney(order.refundOwed, locale)}</dd>
          </div>
        ) : null}
      </dl>

      <section aria-labelledby={`payment-${order.id}`} className="card">
        <h3 id={`payment-${order.id}`}>{t('order.payment')}</h3>
        {order.payment ? (
          <dl className="facts">
            <div>
              <dt>{t('order.payment.code')}</dt>
              <dd>
                <code data-testid="payment-code">{order.payment.code}</code>
              </dd>
            </div>
            <div>
              <dt>{t('order.payment.amount')}</dt>
              <dd data-testid="payment-amount">{formatMoney(order.payment.amount, locale)}</dd>
            </div>
            <div>
              <dt>{t('order.payment.expiresAt')}</dt>
              <dd>{formatDateTime(order.payment.expiresAt, locale)}</dd>
            </div>
            <div>
              <dt>{t('order.payment.status')}</dt>
              <dd data-testid="payment-status">{paymentStatusLabel(order.payment.status, locale)}</dd>
            </div>
            {Number(order.payment.received) > 0 ? (
              <div>
                <dt>{t('order.payment.received')}</dt>
                <dd data-testid="payment-received">{formatMoney(order.payment.received, locale)}</dd>
              </div>
            ) : null}
          </dl>
        ) : order.status === 'CANCELLED' || order.status === 'PENDING_STOCK' ? null : (
          <p>{t('order.payment.waiting')}</p>
        )}
        {order.status === 'AWAITING_PAYMENT' && order.payment?.status === 'PENDING' && order.payment.brCode ? (
          <PixCharge orderId={order.id} brCode={order.payment.brCode} expiresAt={order.payment.expiresAt} />
        ) : null}
        {order.payment && order.payment.refunds.length > 0 ? (
          <>
            <h4>{t('order.refunds')}</h4>
            <RefundList refunds={order.payment.refunds} />
          </>
        ) : null}
      </section>

      <section aria-labelledby={`items-${order.id}`}>
        <h3 id={`items-${order.id}`}>{t('order.items')}</h3>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('products.description')}</th>
              <th scope="col">{t('order.item.quantity')}</th>
              <th scope="col">{t('order.item.unitPrice')}</th>
              <th scope="col">{t('order.item.total')}</th>
              <th scope="col">{t('order.item.status')}</th>
            </tr>
          </thead>
          <tbody>
            {order.items.map((item, index) => (
              <tr key={`${item.productId ?? item.vehicle?.id ?? ''}-${index}`} data-product-id={item.productId ?? ''}>
                <td data-label={t('products.description')}>{item.description}</td>
                <td data-label={t('order.item.quantity')}>{item.quantity}</td>
                <td data-label={t('order.item.unitPrice')}>{formatMoney(item.unitPrice, locale)}</td>
                <td data-label={t('order.item.total')}>{formatMoney(item.total, locale)}</td>
                <td data-label={t('order.item.status')}>{item.status ? <ItemStatusBadge status={item.status} /> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby={`invoice-${order.id}`} className="card">
        <h3 id={`invoice-${order.id}`}>{t('order.invoice')}</h3>
        {invoice ? (
          <p data-testid="invoice">
            <InvoiceStatusBadge status={invoice.status} />{' '}
            {invoice.number ? `${t('order.invoice.number')} ${invoice.number}` : null}{' '}
            {invoice.status === 'CONFIRMED' && invoice.url ? (
              <a href={invoice.url} target="_blank" rel="noreferrer" data-testid="invoice-link">
                {t('order.invoice.open')}
              </a>
            ) : null}
          </p>
        ) : (
          <p>{t('order.invoice.pending')}</p>
        )}
      </section>

      <section aria-labelledby={`history-${order.id}`}>
        <h3 id={`history-${order.id}`}>{t('order.history')}</h3>
        <ol className="history" data-testid="order-history">
          {order.history.map((step, index) => (
            <li key={`${step.at}-${index}`} data-status={step.status}>
              <time dateTime={step.at}>{formatDateTime(step.at, locale)}</time> — {ORDER_STATUS[step.status][locale]}{' '}
              <small>({step.event})</small>
              {step.detail ? <small> {step.detail}</small> : null}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
