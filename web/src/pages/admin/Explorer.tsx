// GraphiQL, bundled (no CDN), for the SPA's developers; its own chunk, loaded only when this route is opened.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createClient } from 'graphql-ws';
import { useMemo } from 'react';
import { useApp } from '../../app-context';
import { useI18n } from '../../i18n';

const EXAMPLE = `# Veículos à venda, do mais barato ao mais caro
query VehiclesForSale {
  vehicles(first: 5) {
    edges { node { id brand model year price status } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

export default function Explorer() {
  const { t } = useI18n();
  const { config, store } = useApp();
  const fetcher = useMemo(() => {
    const authorization = (): Record<string, string> => {
      const token = store.session?.idToken;
      return token ? { Authorization: `Bearer ${token}` } : {};
    };
    return createGraphiQLFetcher({
      url: config.apiUrl,
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...authorization() } }),
      wsClient: createClient({ url: config.wsUrl, lazy: true, connectionParams: authorization }),
    });
  }, [config, store]);
  return (
    <section aria-labelledby="explorer-title" className="explorer">
      <h1 id="explorer-title">{t('explorer.title')}</h1>
      <p className="hint">{t('explorer.lead')}</p>
      <div className="graphiql-host">
        <GraphiQL fetcher={fetcher} defaultQuery={EXAMPLE} />
      </div>
    </section>
  );
}
