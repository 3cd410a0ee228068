import { useRef, useState, type SyntheticEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { ErrorNotice, Loading } from '../components/ui';
import { formatMoney } from '../format';
import { PlaceOrderMutation, ProductsQuery } from '../graphql/operations';
import { useI18n } from '../i18n';

/** Products with quantities: one order for all of them; an item short of stock waits for it (PENDING_STOCK). */
export function Products() {
  const { t, locale } = useI18n();
  const navigate = useNavigate();
  const [result] = useQuery({ query: ProductsQuery, variables: { first: 100 }, requestPolicy: 'cache-and-network' });
  const [placing, placeOrder] = useMutation(PlaceOrderMutation);
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const idempotencyKey = useRef<string>(crypto.randomUUID());

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const items = Object.entries(quantities)
      .map(([productId, text]) => ({ productId, quantity: Number.parseInt(text, 10) }))
      .filter((item) => Number.isInteger(item.quantity) && item.quantity > 0);
    if (items.length === 0) {
      setProblem(t('products.nothingChosen'));
      return;
    }
    setProblem(null);
    const answer = await placeOrder({ input: { items, idempotencyKey: idempotencyKey.current } });
    if (answer.data?.placeOrder) {
      idempotencyKey.current = crypto.randomUUID();
      await navigate(`/pedidos/${answer.data.placeOrder.id}`);
    }
  }

  const products = result.data?.products.edges.map((edge) => edge.node) ?? [];
  return (
    <section aria-labelledby="products-title">
      <h1 id="products-title">{t('products.title')}</h1>
      <p className="lead">{t('products.lead')}</p>
      <ErrorNotice error={result.error} />
      {result.fetching && !result.data ? <Loading /> : null}
      <form onSubmit={(event) => void submit(event)}>
        <table className="table" data-testid="product-table">
          <thead>
            <tr>
              <th scope="col">{t('products.sku')}</th>
              <th scope="col">{t('products.description')}</th>
              <th scope="col">{t('products.unitPrice')}</th>
              <th scope="col">{t('products.available')}</th>
              <th scope="col">{t('order.item.quantity')}</th>
            </tr>
          </thead>
          <tbody>
            {products.map((product) => (
              <tr key={product.id} data-product-id={product.id}>
                <td data-label={t('products.sku')}>{product.sku}</td>
                <td data-label={t('products.description')}>{product.description}</td>
                <td data-label={t('products.unitPrice')}>{formatMoney(product.unitPrice, locale)}</td>
                <td data-label={t('products.available')}>{product.stockAvailable}</td>
                <td data-label={t('order.item.quantity')}>
                  <input
                    type="number"
                    min={0}
                    max={1000}
                    inputMode="numeric"
                    aria-label={t('products.quantity', { product: product.description })}
                    value={quantities[product.id] ?? ''}
                    onChange={(event) => {
                      setQuantities((previous) => ({ ...previous, [product.id]: event.target.value }));
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {problem ? (
          <div className="notice notice-error" role="alert">
            {problem}
          </div>
        ) : null}
        <ErrorNotice error={placing.error} />
        <button type="submit" className="primary" disabled={placing.fetching}>
          {placing.fetching ? t('products.ordering') : t('products.order')}
        </button>
      </form>
    </section>
  );
}
