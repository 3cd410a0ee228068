import { formatDateTime, formatMoney } from '../format';
import type { OrderFieldsFragment } from '../gql/graphql';
import { useI18n } from '../i18n';
import { RefundStatusBadge } from './ui';

export type RefundData = NonNullable<OrderFieldsFragment['payment']>['refunds'][number];

/** Every refund of an order's payment, oldest first: how much, where it stands, when it was asked for and ended. */
export function RefundList({ refunds }: { refunds: readonly RefundData[] }) {
  const { t, locale } = useI18n();
  return (
    <ul className="refunds" data-testid="refunds">
      {refunds.map((refund) => (
        <li key={refund.id} data-refund-id={refund.id}>
          <RefundStatusBadge status={refund.status} />{' '}
          <span data-testid="refund-amount">{formatMoney(refund.amount, locale)}</span>
          {' · '}
          {t('order.refund.requestedAt')}{' '}
          <time dateTime={refund.requestedAt}>{formatDateTime(refund.requestedAt, locale)}</time>
          {refund.completedAt ? (
            <>
              {' · '}
              {t('order.refund.completedAt')}{' '}
              <time dateTime={refund.completedAt}>{formatDateTime(refund.completedAt, locale)}</time>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
