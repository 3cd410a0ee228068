// What each status the API names means to a person, in each locale; and how urgent it looks.
import type { InvoiceStatus, ItemStatus, OrderStatus, RefundStatus, VehicleStatus } from './gql/graphql';
import type { Locale } from './i18n/messages';

type Labels<K extends string> = Record<K, Record<Locale, string>>;

export const ORDER_STATUS: Labels<OrderStatus> = {
  PLACED: { 'pt-BR': 'Pedido recebido', en: 'Placed' },
  RESERVED: { 'pt-BR': 'Reservado', en: 'Reserved' },
  AWAITING_PAYMENT: { 'pt-BR': 'Aguardando pagamento', en: 'Awaiting payment' },
  PAID: { 'pt-BR': 'Pago', en: 'Paid' },
  COMPLETED: { 'pt-BR': 'Concluído', en: 'Completed' },
  PENDING_STOCK: { 'pt-BR': 'Aguardando estoque', en: 'Waiting for stock' },
  CANCELLED: { 'pt-BR': 'Cancelado', en: 'Cancelled' },
};

export const VEHICLE_STATUS: Labels<VehicleStatus> = {
  AVAILABLE: { 'pt-BR': 'À venda', en: 'For sale' },
  RESERVED: { 'pt-BR': 'Reservado', en: 'Reserved' },
  SOLD: { 'pt-BR': 'Vendido', en: 'Sold' },
};

export const INVOICE_STATUS: Labels<InvoiceStatus> = {
  PENDING: { 'pt-BR': 'Em emissão', en: 'Being issued' },
  CONFIRMED: { 'pt-BR': 'Emitida', en: 'Issued' },
  ERROR_STOCK: { 'pt-BR': 'Erro de estoque', en: 'Stock error' },
};

export const ITEM_STATUS: Labels<ItemStatus> = {
  RESERVED: { 'pt-BR': 'Reservado', en: 'Reserved' },
  PENDING: { 'pt-BR': 'Aguardando estoque', en: 'Waiting for stock' },
  RELEASED: { 'pt-BR': 'Devolvido ao estoque', en: 'Back in stock' },
};

export const REFUND_STATUS: Labels<RefundStatus> = {
  PENDING: { 'pt-BR': 'Devolução em processamento', en: 'Refund in progress' },
  REFUNDED: { 'pt-BR': 'Devolvida', en: 'Refunded' },
  FAILED: { 'pt-BR': 'Não realizada', en: 'Not made' },
};

export function refundTone(status: RefundStatus): Tone {
  switch (status) {
    case 'PENDING':
      return 'progress';
    case 'REFUNDED':
      return 'success';
    case 'FAILED':
      return 'danger';
  }
}

// Strings the API documents but does not enumerate in the schema: shown as they come when unknown.
const PAYMENT_STATUS: Record<string, Record<Locale, string>> = {
  PENDING: { 'pt-BR': 'Pendente', en: 'Pending' },
  PAID: { 'pt-BR': 'Pago', en: 'Paid' },
  EXPIRED: { 'pt-BR': 'Expirado', en: 'Expired' },
  CANCELLED: { 'pt-BR': 'Cancelado', en: 'Cancelled' },
  REFUND_OWED: { 'pt-BR': 'Devolução devida', en: 'Refund owed' },
};

const CANCELLATION_REASON: Record<string, Record<Locale, string>> = {
  CLIENT_INVALID: { 'pt-BR': 'Cadastro do cliente inválido', en: 'Client record not valid' },
  VEHICLE_UNAVAILABLE: { 'pt-BR': 'Veículo indisponível', en: 'Vehicle unavailable' },
  OUT_OF_STOCK: { 'pt-BR': 'Sem estoque', en: 'Out of stock' },
  PAYMENT_EXPIRED: { 'pt-BR': 'Pagamento expirado', en: 'Payment expired' },
  PAYMENT_FAILED: { 'pt-BR': 'Pagamento recusado', en: 'Payment failed' },
  PAYMENT_REFUSED: { 'pt-BR': 'Cobrança Pix não gerada', en: 'Pix charge refused' },
  CUSTOMER_CANCELLED: { 'pt-BR': 'Cancelado pelo cliente', en: 'Cancelled by the customer' },
};

export function paymentStatusLabel(status: string, locale: Locale): string {
  return PAYMENT_STATUS[status]?.[locale] ?? status;
}

export function cancellationReasonLabel(reason: string, locale: Locale): string {
  return CANCELLATION_REASON[reason]?.[locale] ?? reason;
}

export type Tone = 'neutral' | 'progress' | 'success' | 'warning' | 'danger';

export function orderTone(status: OrderStatus): Tone {
  switch (status) {
    case 'COMPLETED':
    case 'PAID':
      return 'success';
    case 'CANCELLED':
      return 'danger';
    case 'PENDING_STOCK':
    case 'AWAITING_PAYMENT':
      return 'warning';
    case 'PLACED':
    case 'RESERVED':
      return 'progress';
  }
}

/** An order can be cancelled by its customer while its payment is pending (or it waits for stock). */
export function canCancel(status: OrderStatus): boolean {
  return status === 'AWAITING_PAYMENT' || status === 'PENDING_STOCK' || status === 'PLACED' || status === 'RESERVED';
}

export function isFinal(status: OrderStatus): boolean {
  return status === 'COMPLETED' || status === 'CANCELLED';
}
