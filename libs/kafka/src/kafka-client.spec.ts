import type { OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import { saslFor, tlsFor } from './kafka-client';

const staticCredentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
});

describe('saslFor', () => {
  it('uses no SASL without auth and SCRAM-SHA-512 with credentials', () => {
    expect(saslFor({ mode: 'none' })).toBeUndefined();
    expect(saslFor({ mode: 'scram', username: 'svc', password: 'pw' })).toEqual({
      mechanism: 'scram-sha-512',
      username: 'svc',
      password: 'pw',
    });
  });

  it('MSK IAM: OAUTHBEARER with a cached token, the same one for every connection until it nears expiry', async () => {
    let calls = 0;
    const sasl = saslFor(
      { mode: 'msk-iam', region: 'eu-west-1', sessionName: 'order-service' },
      {
        credentials: async () => {
          calls += 1;
          return staticCredentials();
        },
      },
    ) as Extract<SASLOptions, { mechanism: 'oauthbearer' }>;
    expect(sasl.mechanism).toBe('oauthbearer');
    const [a, b] = (await Promise.all([sasl.oauthBearerProvider(), sasl.oauthBearerProvider()])) as OauthbearerProviderResponse[];
    expect(a.value).toBe(b.value);
    expect(calls).toBe(1);
    const url = new URL(Buffer.from(a.value, 'base64url').toString('utf8'));
    expect(url.hostname).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
  });
});

describe('tlsFor', () => {
  it('trusts a custom CA file when one is configured, otherwise follows KAFKA_SSL', () => {
    expect(tlsFor({ ssl: false })).toBe(false);
    expect(tlsFor({ ssl: true })).toBe(true);
    const tls = tlsFor({ ssl: true, sslCaFile: __filename }) as { ca: string[]; rejectUnauthorized: boolean };
    expect(tls.rejectUnauthorized).toBe(true);
    expect(tls.ca[0]).toContain('trusts a custom CA file');
  });
});
