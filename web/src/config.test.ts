import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

const local = {
  apiUrl: 'http://127.0.0.1:8000/graphql',
  wsUrl: 'ws://127.0.0.1:8001',
  cognito: {
    region: 'us-east-1',
    userPoolId: 'us-east-1_abc',
    clientId: 'client',
    endpoint: 'http://127.0.0.1:4566',
  },
  trustedDocuments: false,
  environment: 'local',
};

describe('parseConfig', () => {
  it('reads the local stack config', () => {
    expect(parseConfig(local)).toEqual(local);
  });

  it('defaults trustedDocuments to false and drops an empty endpoint', () => {
    const parsed = parseConfig({
      apiUrl: local.apiUrl,
      wsUrl: local.wsUrl,
      cognito: { ...local.cognito, endpoint: '' },
    });
    expect(parsed.trustedDocuments).toBe(false);
    expect(parsed.environment).toBe('aws');
    expect(parsed.cognito.endpoint).toBeUndefined();
  });

  it('says what is missing', () => {
    expect(() => parseConfig({ ...local, apiUrl: '' })).toThrow(new ConfigError('config.json: apiUrl must be a non-empty string'));
    expect(() => parseConfig({ ...local, cognito: { ...local.cognito, clientId: 3 } })).toThrow(/cognito\.clientId/);
    expect(() => parseConfig({ ...local, trustedDocuments: 'yes' })).toThrow(/trustedDocuments/);
    expect(() => parseConfig([])).toThrow(ConfigError);
  });
});
