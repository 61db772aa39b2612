/**
 * The local broker's SASL_PLAINTEXT listener: SCRAM-SHA-512 users created at format time, and the
 * StandardAuthorizer applying ACLs (the PLAINTEXT listeners are super users, so ACLs are tested here).
 */
import { loadConfig } from '@app/config';
import { uniqueName } from '@app/testing';
import { createKafkaClient } from '../src';

const saslPort = process.env.LOCAL_KAFKA_SASL_PORT ?? '9096';
const users = {
  admin: { username: 'admin', password: process.env.LOCAL_SCRAM_ADMIN_PASSWORD ?? 'admin-secret' },
  app: {
    username: process.env.LOCAL_SCRAM_APP_USER ?? 'securecart-app',
    password: process.env.LOCAL_SCRAM_APP_PASSWORD ?? 'securecart-app-secret',
  },
};

function scramClient(user: { username: string; password: string }) {
  const config = loadConfig(
    {
      KAFKA_BROKERS: `127.0.0.1:${saslPort}`,
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_USERNAME: user.username,
      KAFKA_SASL_PASSWORD: user.password,
    },
    { service: 'scram-e2e', defaultHttpPort: 0 },
  );
  return createKafkaClient({ ...config.kafka, clientId: uniqueName('scram-e2e') });
}

describe('SCRAM-SHA-512 listener with ACLs', () => {
  it('lets the admin user in and manage topics', async () => {
    const admin = scramClient(users.admin).admin();
    await admin.connect();
    try {
      const topic = uniqueName('scram.admin-made.v1');
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      expect(await admin.listTopics()).toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it('authenticates the app user but denies it topics it has no ACL for', async () => {
    const admin = scramClient(users.admin).admin();
    const appAdmin = scramClient(users.app).admin();
    await Promise.all([admin.connect(), appAdmin.connect()]);
    try {
      const topic = uniqueName('scram.no-acl.v1');
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      // Without a Describe ACL the topic is invisible to the app user.
      await expect(appAdmin.fetchTopicMetadata({ topics: [topic] })).rejects.toThrow(/authoriz/i);
      expect(await appAdmin.listTopics()).not.toContain(topic);
    } finally {
      await Promise.all([admin.disconnect(), appAdmin.disconnect()]);
    }
  });

  it('rejects a wrong password', async () => {
    const admin = scramClient({ username: 'admin', password: 'wrong-password' }).admin();
    await expect(admin.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|Authentication failed/i);
  });
});
