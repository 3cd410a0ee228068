// The deployment's settings, read from /config.json when the app starts: one build serves every deployment
// (the local stack writes the file from its resources; the CDK app deploys one beside the built files).

export interface CognitoConfig {
  region: string;
  userPoolId: string;
  clientId: string;
  /** Cognito's endpoint; locally the AWS emulator. Absent on AWS (the region's endpoint). */
  endpoint?: string;
}

export interface RuntimeConfig {
  apiUrl: string;
  wsUrl: string;
  cognito: CognitoConfig;
  /** Send operations by their persisted-document hash instead of their text (the API must know the manifest). */
  trustedDocuments: boolean;
  /** "local" on the laptop stack: the UI explains what the emulator does differently (no confirmation email). */
  environment: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function requireString(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`${where}${key} must be a non-empty string`);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseConfig(raw: unknown): RuntimeConfig {
  if (!isRecord(raw)) {
    throw new ConfigError('config.json must hold an object');
  }
  const cognito = raw['cognito'];
  if (!isRecord(cognito)) {
    throw new ConfigError('config.json: cognito must be an object');
  }
  const trusted = raw['trustedDocuments'] ?? false;
  if (typeof trusted !== 'boolean') {
    throw new ConfigError('config.json: trustedDocuments must be true or false');
  }
  const endpoint = cognito['endpoint'];
  if (endpoint !== undefined && endpoint !== null && typeof endpoint !== 'string') {
    throw new ConfigError('config.json: cognito.endpoint must be a string');
  }
  const environment = raw['environment'] ?? 'aws';
  return {
    apiUrl: requireString(raw, 'apiUrl', 'config.json: '),
    wsUrl: requireString(raw, 'wsUrl', 'config.json: '),
    cognito: {
      region: requireString(cognito, 'region', 'config.json: cognito.'),
      userPoolId: requireString(cognito, 'userPoolId', 'config.json: cognito.'),
      clientId: requireString(cognito, 'clientId', 'config.json: cognito.'),
      ...(typeof endpoint === 'string' && endpoint !== '' ? { endpoint } : {}),
    },
    trustedDocuments: trusted,
    environment: typeof environment === 'string' ? environment : 'aws',
  };
}

export async function loadConfig(url = '/config.json'): Promise<RuntimeConfig> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) {
    throw new ConfigError(`${url} answered HTTP ${response.status}`);
  }
  return parseConfig(await response.json());
}
