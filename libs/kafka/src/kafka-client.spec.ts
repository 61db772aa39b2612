import type { OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import { saslFor } from './kafka-client';

describe('saslFor', () => {
  it('uses no SASL without auth and SCRAM-SHA-512 with credentials', () => {
    expect(saslFor({ mode: 'none' })).toBeUndefined();
    expect(saslFor({ mode: 'scram', username: 'svc', password: 'pw' })).toEqual({
      mechanism: 'scram-sha-512',
      username: 'svc',
      password: 'pw',
    });
  });

  describe('msk-iam', () => {
    const saved = { ...process.env };
    beforeAll(() => {
      // Static credentials: the signer presigns locally, no AWS call is made.
      process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
      process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
      delete process.env.AWS_SESSION_TOKEN;
      delete process.env.AWS_PROFILE;
    });
    afterAll(() => {
      process.env = saved;
    });

    it('signs an OAUTHBEARER token for kafka-cluster:Connect in the configured region', async () => {
      const sasl = saslFor({ mode: 'msk-iam', region: 'eu-west-1' }) as Extract<SASLOptions, { mechanism: 'oauthbearer' }>;
      expect(sasl.mechanism).toBe('oauthbearer');
      const { value } = (await sasl.oauthBearerProvider()) as OauthbearerProviderResponse;
      const url = new URL(Buffer.from(value, 'base64url').toString('utf8'));
      expect(url.hostname).toBe('kafka.eu-west-1.amazonaws.com');
      expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});
