import type { CombinedError } from '@urql/core';
import type { ReactNode } from 'react';
import { errorMessage } from '../errors';
import type { InvoiceStatus, ItemStatus, OrderStatus, RefundStatus, VehicleStatus } from '../gql/graphql';
import { useI18n } from '../i18n';
import {
  INVOICE_STATUS,
  ITEM_STATUS,
  ORDER_STATUS,
  orderTone,
  REFUND_STATUS,
  refundTone,
  VEHICLE_STATUS,
  type Tone,
} from '../status';

function Badge({ tone, status, label }: { tone: Tone; status: string; label: string }) {
  return (
    <span className={`badge tone-${tone}`} data-status={status}>
      {label}
    </span>
  );
}

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  const { locale } = useI18n();
  return <Badge tone={orderTone(status)} status={status} label={ORDER_STATUS[status][locale]} />;
}

export function VehicleStatusBadge({ status }: { status: VehicleStatus }) {
  const { locale } = useI18n();
  const tone: Tone = status === 'AVAILABLE' ? 'success' : status === 'SOLD' ? 'neutral' : 'warning';
  return <Badge tone={tone} status={status} label={VEHICLE_STATUS[status][locale]} />;
}

export function InvoiceStatusBadge({ status }: { status: InvoiceStatus }) {
  const { locale } = useI18n();
  const tone: Tone = status === 'CONFIRMED' ? 'success' : status === 'ERROR_STOCK' ? 'danger' : 'progress';
  return <Badge tone={tone} status={status} label={INVOICE_STATUS[status][locale]} />;
}

export function ItemStatusBadge({ status }: { status: ItemStatus }) {
  const { locale } = useI18n();
  const tone: Tone = status === 'PENDING' ? 'warning' : status === 'RESERVED' ? 'success' : 'neutral';
  return <Badge tone={tone} status={status} label={ITEM_STATUS[status][locale]} />;
}

export function RefundStatusBadge({ status }: { status: RefundStatus }) {
  const { locale } = useI18n();
  return <Badge tone={refundTone(status)} status={status} label={REFUND_STATUS[status][locale]} />;
}

/** An error shown as an alert (read out at once), never swallowed. */
export function ErrorNotice({ error, children }: { error?: CombinedError | undefined; children?: ReactNode }) {
  const { t } = useI18n();
  if (!error && !children) {
    return null;
  }
  return (
    <div className="notice notice-error" role="alert">
      {error ? t('common.error', { message: errorMessage(error) }) : null}
      {children}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' | 'warning' }) {
  return (
    <div className={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" aria-busy="true">
      {t('common.loading')}
    </p>
  );
}

export interface FieldProps {
  name: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  type?: string;
  value: string;
  onChange: (value: string) => void;
  required?: boolean;
  autoComplete?: string;
  inputMode?: 'numeric' | 'decimal' | 'tel' | 'email' | 'text';
  readOnly?: boolean;
  min?: number;
}

/** A labelled input whose API error, if any, sits right under it and is tied to it for assistive technology. */
export function Field({ name, label, error, hint, type = 'text', value, onChange, ...rest }: FieldProps) {
  const id = `field-${name.replace(/\W/g, '-')}`;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(event) => {
          onChange(event.target.value);
        }}
        {...rest}
      />
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-error" data-field-error={name}>
          {error}
        </small>
      ) : null}
    </div>
  );
}
