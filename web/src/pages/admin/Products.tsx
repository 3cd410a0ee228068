import { useState, type SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { useAnnounce } from '../../app-context';
import { ErrorNotice, Field, Notice } from '../../components/ui';
import { formErrors } from '../../errors';
import { formatMoney, parseMoneyInput } from '../../format';
import type { ProductsQuery as ProductsData } from '../../gql/graphql';
import { AdjustStockMutation, CreateProductMutation, ProductsQuery } from '../../graphql/operations';
import { useI18n } from '../../i18n';

type Product = ProductsData['products']['edges'][number]['node'];
const PRODUCT_FIELDS = ['sku', 'description', 'unitPrice', 'initialStock'] as const;
type ProductForm = Record<(typeof PRODUCT_FIELDS)[number], string>;
const EMPTY: ProductForm = { sku: '', description: '', unitPrice: '', initialStock: '0' };

export function AdminProducts() {
  const { t, locale } = useI18n();
  const [result] = useQuery({ query: ProductsQuery, variables: { first: 100 }, requestPolicy: 'cache-and-network' });
  const [creating, create] = useMutation(CreateProductMutation);
  const [form, setForm] = useState<ProductForm>(EMPTY);
  const [created, setCreated] = useState<string | null>(null);
  const [priceError, setPriceError] = useState<string | undefined>(undefined);
  const errors = formErrors(creating.error, PRODUCT_FIELDS);
  const labels: ProductForm = {
    sku: t('products.sku'),
    description: t('products.description'),
    unitPrice: t('products.unitPrice'),
    initialStock: t('admin.products.initialStock'),
  };

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const unitPrice = parseMoneyInput(form.unitPrice);
    setPriceError(unitPrice === null ? 'R$ 189,90' : undefined);
    if (unitPrice === null) {
      return;
    }
    const answer = await create({
      input: {
        sku: form.sku,
        description: form.description,
        unitPrice,
        initialStock: Number.parseInt(form.initialStock || '0', 10),
      },
    });
    if (answer.data?.createProduct) {
      const message = t('admin.products.created', { sku: answer.data.createProduct.sku });
      setCreated(message);
      setForm(EMPTY);
    }
  }

  const products = result.data?.products.edges.map((edge) => edge.node) ?? [];
  return (
    <section aria-labelledby="admin-products-title">
      <h1 id="admin-products-title">{t('admin.products.title')}</h1>
      <form onSubmit={(event) => void submit(event)} className="card" aria-labelledby="new-product-title" noValidate>
        <h2 id="new-product-title">{t('admin.products.new')}</h2>
        {errors.general.length > 0 ? <ErrorNotice>{errors.general.join(' ')}</ErrorNotice> : null}
        <div className="form-grid">
          {PRODUCT_FIELDS.map((name) => (
            <Field
              key={name}
              name={`new-${name}`}
              label={labels[name]}
              value={form[name]}
              error={name === 'unitPrice' ? (errors.fields[name] ?? priceError) : errors.fields[name]}
              {...(name === 'initialStock' ? { inputMode: 'numeric' as const } : {})}
              onChange={(value) => {
                setForm((previous) => ({ ...previous, [name]: value }));
              }}
            />
          ))}
        </div>
        <button type="submit" className="primary" disabled={creating.fetching}>
          {t('admin.products.new')}
        </button>
        {created ? <Notice tone="success">{created}</Notice> : null}
      </form>
      <ErrorNotice error={result.error} />
      <table className="table" data-testid="admin-product-table">
        <thead>
          <tr>
            <th scope="col">{t('products.sku')}</th>
            <th scope="col">{t('products.description')}</th>
            <th scope="col">{t('products.unitPrice')}</th>
            <th scope="col">{t('products.onHand')}</th>
            <th scope="col">{t('products.reserved')}</th>
            <th scope="col">{t('products.available')}</th>
            <th scope="col">{t('admin.products.adjust')}</th>
          </tr>
        </thead>
        <tbody>
          {products.map((product) => (
            <ProductRow key={product.id} product={product} locale={locale} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ProductRow({ product, locale }: { product: Product; locale: 'pt-BR' | 'en' }) {
  const { t } = useI18n();
  const announce = useAnnounce();
  const [adjusting, adjust] = useMutation(AdjustStockMutation);
  const [delta, setDelta] = useState('');
  const stock = adjusting.data?.adjustStock ?? product;

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const value = Number.parseInt(delta, 10);
    if (!Number.isInteger(value) || value === 0) {
      return;
    }
    const answer = await adjust({ productId: product.id, delta: value });
    const updated = answer.data?.adjustStock;
    if (updated) {
      setDelta('');
      announce(
        t('admin.products.adjusted', { sku: product.sku, onHand: updated.stockOnHand, available: updated.stockAvailable }),
      );
    }
  }

  return (
    <tr data-product-id={product.id}>
      <td data-label={t('products.sku')}>{product.sku}</td>
      <td data-label={t('products.description')}>{product.description}</td>
      <td data-label={t('products.unitPrice')}>{formatMoney(product.unitPrice, locale)}</td>
      <td data-label={t('products.onHand')} data-testid="stock-on-hand">
        {stock.stockOnHand}
      </td>
      <td data-label={t('products.reserved')}>{stock.stockReserved}</td>
      <td data-label={t('products.available')}>{stock.stockAvailable}</td>
      <td data-label={t('admin.products.adjust')}>
        <form onSubmit={(event) => void submit(event)} className="inline-form">
          <input
            type="number"
            inputMode="numeric"
            aria-label={t('admin.products.delta', { sku: product.sku })}
            value={delta}
            onChange={(event) => {
              setDelta(event.target.value);
            }}
          />
          <button type="submit" disabled={adjusting.fetching}>
            {t('admin.products.adjust')}
          </button>
          {adjusting.error ? <ErrorNotice error={adjusting.error} /> : null}
        </form>
      </td>
    </tr>
  );
}
