import { MskIamTokenError, MskIamTokenProvider, mskCredentialsProvider, type AwsCredentials } from './msk-iam-token';

const MIN = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function decode(token: string): URL {
  return new URL(Buffer.from(token, 'base64url').toString('utf8'));
}

// Only Date is faked: the AWS SDK's own timers and promises run for real.
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask', 'clearTimeout', 'clearInterval', 'performance', 'hrtime'] });
  jest.setSystemTime(T0);
});
afterEach(() => jest.useRealTimers());

describe('MskIamTokenProvider', () => {
  it('signs a presigned kafka-cluster:Connect URL for the region, with expiry and signature parameters', async () => {
    const provider = new MskIamTokenProvider({ region: 'eu-west-1', credentials: async () => keys });
    const token = await provider.token();
    const url = decode(token.value);
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260301/eu-west-1/kafka-cluster/aws4_request');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260301T100000Z');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(token.expiresAt).toBe(T0 + 15 * MIN);
  });

  it('reuses the token, then signs a new one before it expires', async () => {
    let signed = 0;
    const provider = new MskIamTokenProvider({
      region: 'us-east-1',
      credentials: async () => keys,
      sign: async () => ({ token: `token-${++signed}`, expiryTime: Date.now() + 15 * MIN }),
    });
    const first = await provider.token();
    expect(first.refreshAt).toBeLessThan(first.expiresAt);
    jest.setSystemTime(first.refreshAt - 1);
    expect((await provider.token()).value).toBe('token-1');
    jest.setSystemTime(first.refreshAt);
    const second = await provider.token();
    expect(second.value).toBe('token-2');
    // Replaced while the old one still had minutes to live: kafkajs never presents an expired token.
    expect(first.expiresAt - Date.now()).toBeGreaterThanOrEqual(MIN);
  });

  it('expires with credentials that expire before the token would', async () => {
    const credentialsExpireAt = T0 + 5 * MIN;
    let credentialCalls = 0;
    const provider = new MskIamTokenProvider({
      region: 'us-east-1',
      credentials: async () => {
        credentialCalls += 1;
        return { ...keys, sessionToken: 'session', expiration: new Date(credentialCalls === 1 ? credentialsExpireAt : T0 + 60 * MIN) };
      },
    });
    const first = await provider.token();
    expect(first.expiresAt).toBe(credentialsExpireAt);
    // The signer also shortens X-Amz-Expires to the credentials' remaining life.
    expect(Number(decode(first.value).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    expect(first.refreshAt).toBeLessThan(credentialsExpireAt);
    jest.setSystemTime(first.refreshAt);
    const second = await provider.token();
    expect(credentialCalls).toBe(2);
    expect(second.expiresAt).toBe(first.refreshAt + 15 * MIN);
  });

  it('shares one signing between concurrent connections', async () => {
    let signed = 0;
    const provider = new MskIamTokenProvider({
      region: 'us-east-1',
      credentials: async () => keys,
      sign: async () => ({ token: `token-${++signed}`, expiryTime: Date.now() + 15 * MIN }),
    });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => provider.token()));
    expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['token-1']));
  });

  it('keeps using a token that still has life when its refresh fails, and fails once it is nearly expired', async () => {
    let calls = 0;
    const refreshErrors: string[] = [];
    const provider = new MskIamTokenProvider({
      region: 'us-east-1',
      credentials: async () => {
        calls += 1;
        if (calls > 1) throw new Error('STS unavailable');
        return keys;
      },
      sign: async () => ({ token: 'token-1', expiryTime: Date.now() + 15 * MIN }),
      onRefreshError: (err) => void refreshErrors.push(err.message),
    });
    const first = await provider.token();
    jest.setSystemTime(first.refreshAt);
    expect((await provider.token()).value).toBe('token-1');
    expect(refreshErrors).toEqual(['MSK IAM: could not obtain AWS credentials: STS unavailable']);
    jest.setSystemTime(first.expiresAt - 30_000);
    await expect(provider.token()).rejects.toThrow(/STS unavailable/);
    expect(calls).toBe(3);
  });

  it('names a credentials failure without retrying it itself, and refuses credentials that already expired', async () => {
    const failing = new MskIamTokenProvider({
      region: 'us-east-1',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    await expect(failing.token()).rejects.toThrow(MskIamTokenError);
    await expect(failing.token()).rejects.toThrow(/could not obtain AWS credentials: Could not load credentials/);
    const expired = new MskIamTokenProvider({
      region: 'us-east-1',
      credentials: async () => ({ ...keys, expiration: new Date(T0 - 1) }),
    });
    await expect(expired.token()).rejects.toThrow(/credentials expired at 2026-03-01T09:59:59.999Z/);
  });
});

describe('mskCredentialsProvider with a role', () => {
  /** A stand-in STS endpoint: answers AssumeRole with fresh keys and records each request's form. */
  function fakeSts() {
    const requests: URLSearchParams[] = [];
    const requestHandler = {
      handle: async (request: { body: string }) => {
        requests.push(new URLSearchParams(request.body));
        const n = requests.length;
        const xml = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAFAKE${n}</AccessKeyId><SecretAccessKey>secret${n}</SecretAccessKey><SessionToken>token${n}</SessionToken>
<Expiration>${new Date(Date.now() + 60 * MIN).toISOString()}</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/securecart-order-service/order-service</Arn><AssumedRoleId>AROAFAKE:order-service</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r${n}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
        return { response: { statusCode: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(xml) } };
      },
    };
    return { requests, requestHandler };
  }

  it('assumes the role with the same session name on every refresh, so the MSK principal never changes', async () => {
    const sts = fakeSts();
    const credentials = mskCredentialsProvider(
      { region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/securecart-order-service', sessionName: 'order-service' },
      { clientConfig: { requestHandler: sts.requestHandler }, masterCredentials: keys },
    );
    const provider = new MskIamTokenProvider({ region: 'eu-west-1', credentials });
    const seen: AwsCredentials[] = [];
    for (let i = 0; i < 3; i++) {
      const token = await provider.token();
      seen.push({ accessKeyId: decode(token.value).searchParams.get('X-Amz-Credential')!.split('/')[0], secretAccessKey: '' });
      expect(decode(token.value).searchParams.get('X-Amz-Security-Token')).toBe(`token${i + 1}`);
      jest.setSystemTime(token.refreshAt);
    }
    expect(sts.requests.map((r) => r.get('Action'))).toEqual(['AssumeRole', 'AssumeRole', 'AssumeRole']);
    expect(sts.requests.map((r) => r.get('RoleSessionName'))).toEqual(['order-service', 'order-service', 'order-service']);
    expect(sts.requests.map((r) => r.get('RoleArn'))).toEqual(Array(3).fill('arn:aws:iam::123456789012:role/securecart-order-service'));
    // New keys each time (a new STS session), same role and session name: the same principal to MSK.
    expect(seen.map((c) => c.accessKeyId)).toEqual(['ASIAFAKE1', 'ASIAFAKE2', 'ASIAFAKE3']);
  });
});
