import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { ApiError } from '../http/errors.js';
import type { StateStore } from '../state.js';

/** Identity, scope and lifetime of a validated token. */
export interface TokenInfo {
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  domainId: string;
  domainName: string;
  roles: string[];
  methods: string[];
  /** ISO 8601 times with microseconds, as Keystone writes them. */
  issuedAt: string;
  expiresAt: string;
  auditId: string;
  applicationCredentialId?: string;
}

const tokenPrefix = 'dc1';

/** Keystone's message for every authentication failure; it does not say which part failed. */
export const unauthorizedMessage = 'The request you have made requires authentication.';

/**
 * Issues and validates tokens signed with the data folder's key (HMAC-SHA256),
 * so tokens stay valid across restarts of the dev cloud, as Fernet tokens do
 * across Keystone restarts. Revocations are kept in the persisted state.
 */
export class TokenService {
  constructor(
    private readonly store: StateStore,
    private lifetimeSeconds: number,
  ) {}

  /** Changes the lifetime of tokens issued from now on. */
  setLifetime(seconds: number): void {
    this.lifetimeSeconds = seconds;
  }

  /** Issues a token for the given identity; returns the token string and its info. */
  issue(info: Omit<TokenInfo, 'issuedAt' | 'expiresAt' | 'auditId'>): {
    token: string;
    info: TokenInfo;
  } {
    const now = Date.now();
    const full: TokenInfo = {
      ...info,
      issuedAt: keystoneTime(now),
      expiresAt: keystoneTime(now + this.lifetimeSeconds * 1000),
      auditId: randomBytes(16).toString('base64url'),
    };
    const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
    return { token: `${tokenPrefix}${payload}.${this.sign(payload)}`, info: full };
  }

  /** Returns the token's info; throws a 401 ApiError when it is malformed, forged, expired or revoked. */
  validate(token: string | undefined): TokenInfo {
    if (!token?.startsWith(tokenPrefix)) throw new ApiError(401, unauthorizedMessage);
    const [payload, signature] = token.slice(tokenPrefix.length).split('.');
    if (!payload || !signature) throw new ApiError(401, unauthorizedMessage);

    const expected = Buffer.from(this.sign(payload));
    const received = Buffer.from(signature);
    if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
      throw new ApiError(401, unauthorizedMessage);
    }

    const info = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenInfo;
    if (Date.parse(info.expiresAt) <= Date.now()) throw new ApiError(401, unauthorizedMessage);
    if (this.store.data.revokedTokens[info.auditId]) throw new ApiError(401, unauthorizedMessage);
    return info;
  }

  /** Revokes a token until it would have expired anyway. */
  revoke(info: TokenInfo): void {
    this.store.data.revokedTokens[info.auditId] = info.expiresAt;
    this.store.markDirty();
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.store.tokenKey).update(payload).digest('base64url');
  }
}

/** Formats a time as Keystone does: 2024-01-01T00:00:00.000000Z. */
export function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
