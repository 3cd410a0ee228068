import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { loadConfig } from './config';
import './styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);

loadConfig()
  .then((config) => {
    root.render(
      <StrictMode>
        <App config={config} />
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    // Without its configuration the app cannot reach anything: say so instead of showing an empty page.
    root.render(
      <main className="fatal" role="alert">
        <h1>Vehicle Platform</h1>
        <p>Não foi possível carregar a configuração (/config.json). Could not load the configuration.</p>
        <pre>{error instanceof Error ? error.message : String(error)}</pre>
      </main>,
    );
  });
