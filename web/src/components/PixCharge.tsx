import { useEffect, useMemo, useRef, useState } from 'react';
import { formatCountdown } from '../format';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n/messages';
import { qrPicture } from '../qr';

/** The clock, read again every `intervalMs` while the component is on screen. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, intervalMs);
    return () => {
      clearInterval(timer);
    };
  }, [intervalMs]);
  return now;
}

type CopyOutcome = 'copied' | 'failed';

const COPY_MESSAGE = {
  copied: 'order.payment.pix.copied',
  failed: 'order.payment.pix.copyFailed',
} as const satisfies Record<CopyOutcome, MessageKey>;

/**
 * The Pix charge as a customer pays it: the BR Code drawn as a QR code (for a phone's camera) and as text to copy
 * (for the bank app on the same phone), with the time left to pay. Once that time is over, the charge is gone.
 */
export function PixCharge({ orderId, brCode, expiresAt }: { orderId: string; brCode: string; expiresAt: string }) {
  const { t } = useI18n();
  const picture = useMemo(() => qrPicture(brCode), [brCode]);
  const now = useNow(1000);
  const [copy, setCopy] = useState<CopyOutcome | null>(null);
  const codeField = useRef<HTMLTextAreaElement>(null);
  const timeLeft = formatCountdown(expiresAt, now);
  if (timeLeft === null) {
    return <p data-testid="pix-expired">{t('order.payment.pix.expired')}</p>;
  }

  async function copyCode() {
    try {
      await navigator.clipboard.writeText(brCode);
      setCopy('copied');
    } catch {
      // No clipboard (refused, or not a secure context): the code is selected for the person to copy.
      codeField.current?.select();
      setCopy('failed');
    }
  }

  const codeId = `pix-code-${orderId}`;
  return (
    <div className="pix-charge" data-testid="pix-charge">
      <p>{t('order.payment.pix.lead')}</p>
      <svg
        className="pix-qr"
        data-testid="pix-qr"
        role="img"
        aria-label={t('order.payment.pix.qr', { id: orderId })}
        viewBox={`0 0 ${picture.size} ${picture.size}`}
        shapeRendering="crispEdges"
      >
        <rect width={picture.size} height={picture.size} fill="#fff" />
        <path d={picture.path} fill="#000" />
      </svg>
      <p className="pix-expires" data-testid="pix-expires-in">
        <time dateTime={expiresAt}>{t('order.payment.pix.expiresIn', { time: timeLeft })}</time>
      </p>
      <div className="field">
        <label htmlFor={codeId}>{t('order.payment.pix.code')}</label>
        <textarea
          id={codeId}
          ref={codeField}
          className="pix-code"
          data-testid="pix-code"
          readOnly
          rows={4}
          spellCheck={false}
          value={brCode}
          onFocus={(event) => {
            event.currentTarget.select();
          }}
        />
      </div>
      <button type="button" className="primary" data-testid="pix-copy" onClick={() => void copyCode()}>
        {t('order.payment.pix.copy')}
      </button>
      <p
        role="status"
        className={`copy-status${copy === 'failed' ? ' copy-failed' : ''}`}
        data-testid="pix-copy-status"
      >
        {copy === null ? null : t(COPY_MESSAGE[copy])}
      </p>
    </div>
  );
}
