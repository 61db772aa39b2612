import { ConfigError, loadConfig, redactConfig } from './app-config';

const identity = { service: 'order-service', defaultHttpPort: 3000 };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env, identity);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => p.variable);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to the local stack', () => {
    const config = loadConfig({}, identity);
    expect(config.kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'order-service',
      ssl: false,
      auth: { mode: 'none' },
      authMaxAttempts: 3,
    });
    expect(config.schemaRegistry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.objectStore).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'securecart-lake',
      forcePathStyle: true,
    });
    expect(config.objectStore.credentials?.accessKeyId).toBe('securecart-local');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000 });
  });

  it('reads SCRAM auth and a broker list', () => {
    const config = loadConfig(
      {
        KAFKA_BROKERS: 'b1:9096, b2:9096',
        KAFKA_AUTH: 'scram',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'pw',
      },
      identity,
    );
    expect(config.kafka.brokers).toEqual(['b1:9096', 'b2:9096']);
    expect(config.kafka.auth).toEqual({ mode: 'scram', username: 'svc', password: 'pw' });
  });

  it('turns TLS on for MSK IAM and leaves S3 to AWS when the endpoint is empty', () => {
    const config = loadConfig({ KAFKA_AUTH: 'msk-iam', AWS_REGION: 'eu-west-1', S3_ENDPOINT: '' }, identity);
    expect(config.kafka).toMatchObject({ ssl: true, auth: { mode: 'msk-iam', region: 'eu-west-1' } });
    expect(config.objectStore).toMatchObject({ endpoint: undefined, forcePathStyle: false, credentials: undefined });
  });

  it('reads the MSK IAM role with a stable session name (the service by default) and a custom CA', () => {
    const role = 'arn:aws:iam::123456789012:role/securecart-order-service';
    expect(loadConfig({ KAFKA_AUTH: 'msk-iam', KAFKA_IAM_ROLE_ARN: role }, identity).kafka.auth).toEqual({
      mode: 'msk-iam',
      region: 'us-east-1',
      roleArn: role,
      sessionName: 'order-service',
    });
    const named = loadConfig({ KAFKA_AUTH: 'msk-iam', KAFKA_IAM_SESSION_NAME: 'orders-eu' }, identity);
    expect(named.kafka.auth).toMatchObject({ sessionName: 'orders-eu' });
    const tls = loadConfig({ KAFKA_AUTH: 'scram', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SSL_CA_FILE: __filename }, identity);
    expect(tls.kafka).toMatchObject({ ssl: true, sslCaFile: __filename });
    expect(problemsOf({ KAFKA_SSL_CA_FILE: '/nope/ca.pem', KAFKA_IAM_ROLE_ARN: 'role', KAFKA_IAM_SESSION_NAME: 'a b' })).toEqual([
      'KAFKA_IAM_ROLE_ARN',
      'KAFKA_IAM_SESSION_NAME',
      'KAFKA_SSL_CA_FILE',
    ]);
  });

  it.each([
    [{ KAFKA_AUTH: 'kerberos' }, ['KAFKA_AUTH']],
    [{ KAFKA_BROKERS: 'no-port' }, ['KAFKA_BROKERS']],
    [{ KAFKA_AUTH: 'scram', KAFKA_SASL_USERNAME: 'u' }, ['KAFKA_SASL_PASSWORD']],
    [{ SCHEMA_REGISTRY_URL: 'not a url' }, ['SCHEMA_REGISTRY_URL']],
    [{ S3_BUCKET: 'Bad_Bucket' }, ['S3_BUCKET']],
    [{ HTTP_PORT: '70000' }, ['HTTP_PORT']],
    [{ S3_ACCESS_KEY_ID: 'only-the-id' }, ['S3_SECRET_ACCESS_KEY']],
  ])('rejects %j naming %j', (env, variables) => {
    expect(problemsOf(env)).toEqual(variables);
  });

  it('names the variable in the error message', () => {
    expect(() => loadConfig({ KAFKA_AUTH: 'kerberos' }, identity)).toThrow(/KAFKA_AUTH/);
  });

  it('moves credentials out of the registry URL so it can be logged', () => {
    const config = loadConfig({ SCHEMA_REGISTRY_URL: 'https://svc:s3cr%40t@registry.example.com/apis/ccompat/v7/' }, identity);
    expect(config.schemaRegistry).toEqual({
      url: 'https://registry.example.com/apis/ccompat/v7',
      username: 'svc',
      password: 's3cr@t',
    });
    expect(JSON.stringify(redactConfig(config))).not.toContain('s3cr');
  });

  it('redacts every secret', () => {
    const config = loadConfig(
      {
        KAFKA_AUTH: 'scram',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'kafka-secret',
        SCHEMA_REGISTRY_PASSWORD: 'registry-secret',
        S3_ACCESS_KEY_ID: 'id',
        S3_SECRET_ACCESS_KEY: 's3-secret',
      },
      identity,
    );
    const text = JSON.stringify(redactConfig(config));
    expect(text).not.toMatch(/kafka-secret|registry-secret|s3-secret/);
    expect(text).toContain('"username":"svc"');
  });
});
