import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { kafkaDefaults } from './kafka-defaults';

/** What the AWS SDK's credential providers return (structurally `AwsCredentialIdentity`). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** Signs a token from credentials; the real one is aws-msk-iam-sasl-signer-js. */
export type MskTokenSigner = (options: {
  region: string;
  awsCredentialsProvider: AwsCredentialsProvider;
}) => Promise<{ token: string; expiryTime: number }>;

/** The token could not be produced (no credentials, STS refused the role, ...). Never carries the token. */
export class MskIamTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MskIamTokenError';
  }
}

export interface MskIamToken {
  /** The base64url presigned URL kafkajs sends as the OAUTHBEARER token. Secret: never log it. */
  readonly value: string;
  /** Earlier of the token's own expiry and its credentials' expiry (epoch ms). */
  readonly expiresAt: number;
  /** When the provider stops handing this token out and signs a new one (epoch ms). */
  readonly refreshAt: number;
}

export interface MskIamTokenProviderOptions {
  region: string;
  credentials: AwsCredentialsProvider;
  now?: () => number;
  sign?: MskTokenSigner;
  /** Fraction of a token's lifetime left when it is replaced. */
  refreshRemainingFraction?: number;
  /** ...but never later than this long before its expiry (kafkajs re-authenticates 10 s before). */
  minRefreshMarginMs?: number;
  /** A token this close to expiry is not handed out again when its replacement cannot be signed. */
  minUsableMs?: number;
  /** Told when a refresh failed but the current token is still used. */
  onRefreshError?: (err: Error) => void;
}

/**
 * Hands kafkajs an MSK IAM token, signing a new one only when the cached one nears its expiry. The
 * expiry that counts is the earlier of the token's and its credentials': a token presigned with
 * credentials that expire first is rejected from then on, which is how long-running consumers
 * failed after a day or two. Concurrent callers (one per broker connection) share one signing.
 */
export class MskIamTokenProvider {
  private current?: MskIamToken;
  private inflight?: Promise<MskIamToken>;
  private readonly now: () => number;
  private readonly sign: MskTokenSigner;
  private readonly fraction: number;
  private readonly minMarginMs: number;
  private readonly minUsableMs: number;

  constructor(private readonly options: MskIamTokenProviderOptions) {
    this.now = options.now ?? Date.now;
    this.sign = options.sign ?? (generateAuthTokenFromCredentialsProvider as MskTokenSigner);
    this.fraction = options.refreshRemainingFraction ?? kafkaDefaults.mskIam.refreshRemainingFraction;
    this.minMarginMs = options.minRefreshMarginMs ?? kafkaDefaults.mskIam.minRefreshMarginMs;
    this.minUsableMs = options.minUsableMs ?? kafkaDefaults.mskIam.minUsableMs;
  }

  async token(): Promise<MskIamToken> {
    if (this.current && this.now() < this.current.refreshAt) return this.current;
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (err) {
      // STS or the credential source failing for a moment must not break a session whose token still
      // has life in it: keep handing it out (the next call tries again) until it is nearly expired.
      const current = this.current;
      if (current && this.now() < current.expiresAt - this.minUsableMs) {
        this.options.onRefreshError?.(err as Error);
        return current;
      }
      throw err;
    }
  }

  private async refresh(): Promise<MskIamToken> {
    let credentials: AwsCredentials;
    try {
      credentials = await this.options.credentials();
    } catch (err) {
      throw new MskIamTokenError(`MSK IAM: could not obtain AWS credentials: ${(err as Error).message}`, { cause: err });
    }
    const issuedAt = this.now();
    const credentialsExpireAt = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    if (credentialsExpireAt <= issuedAt) {
      throw new MskIamTokenError(`MSK IAM: the AWS credentials expired at ${new Date(credentialsExpireAt).toISOString()}`);
    }
    let signed: { token: string; expiryTime: number };
    try {
      signed = await this.sign({ region: this.options.region, awsCredentialsProvider: async () => credentials });
    } catch (err) {
      throw new MskIamTokenError(`MSK IAM: could not sign a token: ${(err as Error).message}`, { cause: err });
    }
    const expiresAt = Math.min(signed.expiryTime, credentialsExpireAt);
    const lifetime = Math.max(0, expiresAt - issuedAt);
    const margin = Math.max(lifetime * this.fraction, Math.min(this.minMarginMs, lifetime));
    this.current = { value: signed.token, expiresAt, refreshAt: expiresAt - margin };
    return this.current;
  }
}

/**
 * The credentials behind the token. With a role ARN it assumes that role; otherwise the default chain
 * (env, profile, web identity/IRSA, ECS, instance role). Either way the role session name is the
 * configured, stable one: the SDK's default (`aws-sdk-js-<timestamp>`) changes on every refresh, and MSK
 * refuses a re-authentication whose principal differs from the connection's.
 */
export function mskCredentialsProvider(
  auth: { region: string; roleArn?: string; sessionName: string },
  sts?: { clientConfig?: Record<string, unknown>; masterCredentials?: AwsCredentials },
): AwsCredentialsProvider {
  if (auth.roleArn) {
    return fromTemporaryCredentials({
      params: { RoleArn: auth.roleArn, RoleSessionName: auth.sessionName },
      ...(sts?.masterCredentials ? { masterCredentials: sts.masterCredentials } : {}),
      clientConfig: { region: auth.region, maxAttempts: 3, ...sts?.clientConfig },
    }) as AwsCredentialsProvider;
  }
  return fromNodeProviderChain({
    roleSessionName: auth.sessionName,
    clientConfig: { region: auth.region },
  }) as AwsCredentialsProvider;
}
