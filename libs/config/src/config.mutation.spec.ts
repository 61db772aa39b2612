/**
 * The details of config parsing that the behaviour tests in app-config.spec.ts leave open, each pinned
 * down (found by mutation testing: every test here failed a mutant that the suite let through).
 */
import { ConfigError, loadConfig, redactConfig } from './app-config';

const identity = { service: 'order-service', defaultHttpPort: 3000 };

function problems(env: NodeJS.ProcessEnv): ConfigError['problems'] {
  try {
    loadConfig(env, identity);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('ConfigError', () => {
  it('lists every problem on its own line under one heading', () => {
    const error = new ConfigError([
      { variable: 'A', message: 'bad' },
      { variable: 'B', message: 'worse' },
    ]);
    expect(error.message).toBe('Invalid configuration:\n  A: bad\n  B: worse');
    expect(error.name).toBe('ConfigError');
  });
});

describe('KAFKA_BROKERS', () => {
  it('drops empty entries of the list', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'b1:9092,, b2:9092,' }, identity).kafka.brokers).toEqual(['b1:9092', 'b2:9092']);
  });

  it.each(['b1', 'b1:', 'http://b1:9092', 'b1:9092x', ' :9092', 'b1:123456'])('refuses %j as host:port', (brokers) => {
    expect(problems({ KAFKA_BROKERS: brokers })).toEqual([{ variable: 'KAFKA_BROKERS', message: 'expected host:port' }]);
  });

  it('refuses an empty list', () => {
    expect(problems({ KAFKA_BROKERS: ' , ' }).map((p) => p.variable)).toEqual(['KAFKA_BROKERS']);
  });
});

describe('boolean variables', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads %s as %s', (text, value) => {
    expect(loadConfig({ KAFKA_SSL: text, S3_FORCE_PATH_STYLE: text }, identity)).toMatchObject({
      kafka: { ssl: value },
      objectStore: { forcePathStyle: value },
    });
  });

  it('refuses anything else', () => {
    expect(problems({ KAFKA_SSL: 'on' }).map((p) => p.variable)).toEqual(['KAFKA_SSL']);
  });
});

describe('optional text variables', () => {
  it('treat blank as unset and keep surrounding text as given', () => {
    expect(loadConfig({ KAFKA_CLIENT_ID: '   ' }, identity).kafka.clientId).toBe('order-service');
    expect(loadConfig({ KAFKA_CLIENT_ID: ' svc ' }, identity).kafka.clientId).toBe(' svc ');
    expect(loadConfig({ SCHEMA_REGISTRY_USERNAME: '' }, identity).schemaRegistry.username).toBeUndefined();
  });
});

describe('defaults and limits', () => {
  it('defaults the AWS region to us-east-1 and takes another', () => {
    expect(loadConfig({}, identity).objectStore.region).toBe('us-east-1');
    expect(loadConfig({ AWS_REGION: 'eu-west-1' }, identity).objectStore.region).toBe('eu-west-1');
  });

  it('takes a multi-character HTTP host', () => {
    expect(loadConfig({ HTTP_HOST: '0.0.0.0', HTTP_PORT: '8080' }, identity).http).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it.each(['securecart-lake', 'a.b-c', 'abc', 'a'.repeat(63)])('accepts bucket %j', (bucket) => {
    expect(loadConfig({ S3_BUCKET: bucket }, identity).objectStore.bucket).toBe(bucket);
  });

  it.each(['-lake', 'lake-', 'La ke', 'ab', 'a'.repeat(64), 'lake_x', 'lake!', 'x/lake'])('refuses bucket %j', (bucket) => {
    expect(problems({ S3_BUCKET: bucket })).toEqual([{ variable: 'S3_BUCKET', message: 'not a valid S3 bucket name' }]);
  });
});

describe('cross-variable rules', () => {
  it('names each missing SCRAM variable with the reason', () => {
    expect(problems({ KAFKA_AUTH: 'scram' })).toEqual([
      { variable: 'KAFKA_SASL_USERNAME', message: 'required when KAFKA_AUTH=scram' },
      { variable: 'KAFKA_SASL_PASSWORD', message: 'required when KAFKA_AUTH=scram' },
    ]);
  });

  it.each([
    [{ S3_ACCESS_KEY_ID: 'id' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_SECRET_ACCESS_KEY: 'secret' }, 'S3_ACCESS_KEY_ID'],
  ])('names the missing half of the S3 key pair (%j)', (env, missing) => {
    expect(problems(env)).toEqual([
      { variable: missing, message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all' },
    ]);
  });
});

describe('local S3 credentials', () => {
  it.each(['http://localhost:9000', 'http://[::1]:9000', 'http://127.0.0.2:9000'])('are used for the loopback endpoint %s', (endpoint) => {
    expect(loadConfig({ S3_ENDPOINT: endpoint }, identity).objectStore.credentials).toEqual({
      accessKeyId: 'securecart-local',
      secretAccessKey: 'securecart-local-secret',
    });
  });

  it.each(['https://s3.example.com', 'http://128.0.0.1:9000', 'http://localhost.example.com'])('are never sent to %s', (endpoint) => {
    expect(loadConfig({ S3_ENDPOINT: endpoint }, identity).objectStore.credentials).toBeUndefined();
  });
});

describe('registry URL', () => {
  it('drops every trailing slash', () => {
    expect(loadConfig({ SCHEMA_REGISTRY_URL: 'http://r:8081/apis/ccompat/v7//' }, identity).schemaRegistry.url).toBe('http://r:8081/apis/ccompat/v7');
  });
});

describe('redactConfig', () => {
  it('keeps everything but the secrets', () => {
    const config = loadConfig(
      {
        KAFKA_AUTH: 'scram',
        KAFKA_SASL_USERNAME: 'svc',
        KAFKA_SASL_PASSWORD: 'kafka-secret',
        SCHEMA_REGISTRY_USERNAME: 'reg',
        SCHEMA_REGISTRY_PASSWORD: 'registry-secret',
        S3_ACCESS_KEY_ID: 'key-id',
        S3_SECRET_ACCESS_KEY: 's3-secret',
      },
      identity,
    );
    expect(redactConfig(config)).toEqual({
      ...config,
      kafka: { ...config.kafka, auth: { mode: 'scram', username: 'svc', password: '***' } },
      schemaRegistry: { ...config.schemaRegistry, username: 'reg', password: '***' },
      objectStore: { ...config.objectStore, credentials: { accessKeyId: 'key-id', secretAccessKey: '***' } },
    });
  });

  it('leaves a config without secrets as it is', () => {
    const config = loadConfig({ S3_ENDPOINT: 'https://s3.example.com' }, identity);
    expect(redactConfig(config)).toEqual({ ...config, schemaRegistry: { ...config.schemaRegistry, password: undefined } });
    const msk = loadConfig({ KAFKA_AUTH: 'msk-iam' }, identity);
    expect((redactConfig(msk) as typeof msk).kafka.auth).toEqual(msk.kafka.auth);
  });
});

describe('Kafka auth variables', () => {
  const role = 'arn:aws:iam::123456789012:role/securecart-order';

  it.each([role, 'arn:aws-us-gov:iam::123456789012:role/x', 'arn:aws-cn:iam::123456789012:role/path/x'])('accepts the role ARN %s', (arn) => {
    expect(loadConfig({ KAFKA_AUTH: 'msk-iam', KAFKA_IAM_ROLE_ARN: arn }, identity).kafka.auth).toMatchObject({ roleArn: arn });
  });

  it.each([`x${role}`, `${role}\nextra`, 'arn:aws:iam::12345:role/x', 'arn:aws:s3:::bucket'])('refuses %j as a role ARN', (arn) => {
    expect(problems({ KAFKA_AUTH: 'msk-iam', KAFKA_IAM_ROLE_ARN: arn })).toEqual([{ variable: 'KAFKA_IAM_ROLE_ARN', message: 'not an IAM role ARN' }]);
  });

  it.each(['ab', 'order-service@prod', 'a'.repeat(64)])('accepts the session name %j', (name) => {
    expect(loadConfig({ KAFKA_AUTH: 'msk-iam', KAFKA_IAM_SESSION_NAME: name }, identity).kafka.auth).toMatchObject({ sessionName: name });
  });

  it.each(['a', ' ab', 'ab ', 'a b', 'a'.repeat(65)])('refuses %j as a session name', (name) => {
    expect(problems({ KAFKA_AUTH: 'msk-iam', KAFKA_IAM_SESSION_NAME: name })).toEqual([
      { variable: 'KAFKA_IAM_SESSION_NAME', message: '2-64 characters of [A-Za-z0-9_+=,.@-]' },
    ]);
  });

  it('bounds login attempts to 1..20', () => {
    expect(loadConfig({ KAFKA_AUTH_MAX_ATTEMPTS: '1' }, identity).kafka.authMaxAttempts).toBe(1);
    expect(loadConfig({ KAFKA_AUTH_MAX_ATTEMPTS: '20' }, identity).kafka.authMaxAttempts).toBe(20);
    expect(problems({ KAFKA_AUTH_MAX_ATTEMPTS: '0' }).map((p) => p.variable)).toEqual(['KAFKA_AUTH_MAX_ATTEMPTS']);
    expect(problems({ KAFKA_AUTH_MAX_ATTEMPTS: '21' }).map((p) => p.variable)).toEqual(['KAFKA_AUTH_MAX_ATTEMPTS']);
  });

  it('names a CA file that does not exist', () => {
    expect(problems({ KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' })).toEqual([{ variable: 'KAFKA_SSL_CA_FILE', message: 'file not found' }]);
  });
});

describe('log level', () => {
  it.each(['debug', 'info', 'warn', 'error'])('accepts %s', (level) => {
    expect(loadConfig({ LOG_LEVEL: level }, identity).logLevel).toBe(level);
  });

  it('defaults to info', () => {
    expect(loadConfig({}, identity).logLevel).toBe('info');
  });
});
