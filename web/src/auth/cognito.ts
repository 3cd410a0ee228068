// The real Cognito flows through amazon-cognito-identity-js: sign-up, confirmation code, SRP sign-in (the only
// password flow the SPA's app client allows) and refresh. Loaded only when needed, so the first page stays small.
import {
  AuthenticationDetails,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  type CognitoUserSession,
  type ICognitoStorage,
} from 'amazon-cognito-identity-js';
import type { CognitoConfig } from '../config';
import type { Session } from './session';

/** Cognito's own error, with its code (NotAuthorizedException, UserNotConfirmedException...). */
export class CognitoError extends Error {
  override name = 'CognitoError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// The library would keep its own copy of the tokens in localStorage; the SessionStore already does.
class MemoryStorage implements ICognitoStorage {
  private readonly data = new Map<string, string>();
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  removeItem(key: string): void {
    this.data.delete(key);
  }
  clear(): void {
    this.data.clear();
  }
}

function toError(error: unknown): CognitoError {
  if (error instanceof CognitoError) {
    return error;
  }
  if (typeof error === 'object' && error !== null) {
    const record = error as { code?: unknown; name?: unknown; message?: unknown };
    const code = typeof record.code === 'string' ? record.code : typeof record.name === 'string' ? record.name : 'Error';
    return new CognitoError(code, typeof record.message === 'string' ? record.message : code);
  }
  return new CognitoError('Error', String(error));
}

function userPool(config: CognitoConfig): CognitoUserPool {
  return new CognitoUserPool({
    UserPoolId: config.userPoolId,
    ClientId: config.clientId,
    Storage: new MemoryStorage(),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
}

function user(config: CognitoConfig, username: string): CognitoUser {
  const pool = userPool(config);
  return new CognitoUser({ Username: username, Pool: pool, Storage: new MemoryStorage() });
}

function toSession(email: string, username: string, session: CognitoUserSession): Session {
  return {
    email,
    username,
    idToken: session.getIdToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
  };
}

export interface SignUpResult {
  /** False when Cognito sent a confirmation code that the person must enter (the pool verifies email). */
  confirmed: boolean;
}

export function signUp(config: CognitoConfig, email: string, password: string): Promise<SignUpResult> {
  return new Promise((resolve, reject) => {
    userPool(config).signUp(
      email,
      password,
      [new CognitoUserAttribute({ Name: 'email', Value: email })],
      [],
      (error, result) => {
        if (error || !result) {
          reject(toError(error ?? new Error('no answer from Cognito')));
          return;
        }
        resolve({ confirmed: result.userConfirmed });
      },
    );
  });
}

export function confirmSignUp(config: CognitoConfig, email: string, code: string): Promise<void> {
  return new Promise((resolve, reject) => {
    user(config, email).confirmRegistration(code, true, (error: unknown) => {
      if (error) {
        reject(toError(error));
        return;
      }
      resolve();
    });
  });
}

export function signIn(config: CognitoConfig, email: string, password: string): Promise<Session> {
  return new Promise((resolve, reject) => {
    const cognitoUser = user(config, email);
    cognitoUser.authenticateUser(new AuthenticationDetails({ Username: email, Password: password }), {
      onSuccess: (session) => {
        resolve(toSession(email, email, session));
      },
      onFailure: (error: unknown) => {
        reject(toError(error));
      },
      newPasswordRequired: () => {
        reject(new CognitoError('NewPasswordRequired', 'this account must set a new password first'));
      },
      mfaRequired: () => {
        reject(new CognitoError('MfaRequired', 'this account needs multi-factor authentication'));
      },
    });
  });
}

/** New tokens from the refresh token; rejects when Cognito refuses it (revoked, expired, unknown). */
export function refresh(config: CognitoConfig, session: Session): Promise<Session> {
  return new Promise((resolve, reject) => {
    user(config, session.username).refreshSession(
      new CognitoRefreshToken({ RefreshToken: session.refreshToken }),
      (error: unknown, fresh: CognitoUserSession | null) => {
        if (error || !fresh) {
          reject(toError(error ?? new Error('no session from Cognito')));
          return;
        }
        const next = toSession(session.email, session.username, fresh);
        // Cognito answers a refresh without a new refresh token: keep the one we have.
        resolve({ ...next, refreshToken: next.refreshToken || session.refreshToken });
      },
    );
  });
}
