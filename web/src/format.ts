// Money and dates as the people of a Brazilian dealership read them (pt-BR) or in English.
import type { Locale } from './i18n/messages';

const intlLocale: Record<Locale, string> = { 'pt-BR': 'pt-BR', en: 'en-US' };

const moneyFormats = new Map<Locale, Intl.NumberFormat>();

/** A Decimal from the API ("149800.00") as money: "R$ 149.800,00" in pt-BR. Always BRL: prices are in reais. */
export function formatMoney(amount: string | number, locale: Locale = 'pt-BR'): string {
  let format = moneyFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(intlLocale[locale], { style: 'currency', currency: 'BRL' });
    moneyFormats.set(locale, format);
  }
  const value = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(value)) {
    return String(amount);
  }
  // Intl separates the symbol with a no-break space; a plain space reads and matches the same everywhere.
  return format.format(value).replace(/\u00a0/g, ' ');
}

/** An API DateTime (ISO 8601, UTC or with an offset) in the browser's local time zone. */
export function formatDateTime(iso: string, locale: Locale = 'pt-BR', timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return new Intl.DateTimeFormat(intlLocale[locale], {
    dateStyle: 'short',
    timeStyle: 'medium',
    ...(timeZone === undefined ? {} : { timeZone }),
  }).format(date);
}

/** "149.800,00" typed by a person (pt-BR) or "149800.00" -> the API's Decimal "149800.00"; null if not money. */
export function parseMoneyInput(text: string): string | null {
  const cleaned = text.replace(/R\$|\s/g, '');
  if (cleaned === '') {
    return null;
  }
  let normalized = cleaned;
  if (cleaned.includes(',')) {
    // pt-BR: dots group thousands, the comma separates the cents.
    normalized = cleaned.replace(/\./g, '').replace(',', '.');
  }
  if (!/^\d+(\.\d{1,2})?$/.test(normalized)) {
    return null;
  }
  return Number(normalized).toFixed(2);
}

/**
 * The time left until `iso` at `now` (milliseconds since the epoch) as a countdown: "4:05", "1:02:03". Seconds are
 * rounded up, so "0:01" shows until the very end; null once the instant has passed (or cannot be read).
 */
export function formatCountdown(iso: string, now: number): string | null {
  const end = Date.parse(iso);
  if (Number.isNaN(end) || end <= now) {
    return null;
  }
  const seconds = Math.ceil((end - now) / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}
