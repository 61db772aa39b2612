import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type Admin, type AclEntry } from 'kafkajs';
import { serviceAccess, type ServiceAccess } from '@app/contracts';
import { aclsFor, describeAcl, entriesOf, planAcls, principalOf, type AclPlan } from './acl-plan';
import { localPrincipals, localSasl, type LocalPrincipal } from './local-principals';

const ROOT = join(__dirname, '..', '..');

export interface ApplyAccessOptions {
  brokers?: string[];
  admin?: { username: string; password: string };
  access?: readonly ServiceAccess[];
  principals?: LocalPrincipal[];
  log?: (line: string) => void;
}

export interface ApplyAccessReport {
  usersCreated: string[];
  acls: AclPlan;
}

function scramKafka(brokers: string[], user: { username: string; password: string }, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    sasl: { mechanism: 'scram-sha-512', username: user.username, password: user.password },
    connectionTimeout: 3_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
}

/** Whether the broker accepts this user and password (SCRAM users cannot be read back, only tried). */
async function canLogIn(brokers: string[], user: { username: string; password: string }): Promise<boolean> {
  const admin = scramKafka(brokers, user, 'acl-apply-login-check').admin();
  try {
    await admin.connect();
    return true;
  } catch (err) {
    if ((err as Error).name === 'KafkaJSSASLAuthenticationError' || /authentication failed/i.test((err as Error).message)) return false;
    throw err;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The Kafka jars infra/local/stack.sh downloaded (the same pom hash it uses for the folder name). */
export function kafkaLibsDir(): string {
  const state = process.env.STACK_STATE_DIR ?? join(ROOT, '.local-stack');
  const pomHash = createHash('sha1').update(readFileSync(join(ROOT, 'infra', 'local', 'pom.xml'))).digest('hex').slice(0, 12);
  const dir = join(state, 'downloads', `kafka-libs-${pomHash}`);
  if (!existsSync(join(dir, '.complete'))) throw new Error(`Kafka jars not found in ${dir}: run npm run stack:up first`);
  return dir;
}

/**
 * Creates SCRAM users with Kafka's own admin client (AlterUserScramCredentials, which kafkajs lacks):
 * `java ScramUsers.java`, passwords on stdin, the admin's in the environment.
 */
async function upsertScramUsers(brokers: string[], admin: { username: string; password: string }, users: LocalPrincipal[]): Promise<void> {
  const libs = kafkaLibsDir();
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      java,
      [`-Dlog4j2.configurationFile=${join(ROOT, 'infra', 'local', 'log4j2.properties')}`, '-cp', join(libs, '*'), join(__dirname, 'ScramUsers.java'), brokers.join(',')],
      { env: { ...process.env, SCRAM_ADMIN_USER: admin.username, SCRAM_ADMIN_PASSWORD: admin.password }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => reject(new Error(`could not run ${java}: ${err.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ScramUsers exited ${code}:\n${output.split('\n').slice(-15).join('\n')}`))));
    child.stdin.end(users.map((u) => `${u.username} ${u.password}\n`).join(''));
  });
}

async function currentAcls(admin: Admin): Promise<AclEntry[]> {
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  return entriesOf(described.resources);
}

/**
 * Makes the local SASL listener match the access data: one SCRAM user per service, and exactly the ACLs
 * its grants define. Idempotent: users that already log in are left alone, ACLs already present are kept,
 * and ACLs of the managed principals that the data no longer defines are removed (other principals'
 * ACLs are never touched).
 */
export async function applyAccess(options: ApplyAccessOptions = {}): Promise<ApplyAccessReport> {
  const brokers = options.brokers ?? localSasl.brokers;
  const adminUser = options.admin ?? localSasl.admin;
  const access = options.access ?? serviceAccess;
  const principals = options.principals ?? localPrincipals();
  const log = options.log ?? (() => undefined);

  const missing: LocalPrincipal[] = [];
  for (const p of principals) if (!(await canLogIn(brokers, p))) missing.push(p);
  if (missing.length > 0) {
    await upsertScramUsers(brokers, adminUser, missing);
    for (const p of missing) log(`user created or reset  ${p.username}`);
    // SCRAM credentials propagate through the metadata log; wait until each login works.
    for (const p of missing) {
      const deadline = Date.now() + 15_000;
      while (!(await canLogIn(brokers, p))) {
        if (Date.now() > deadline) throw new Error(`user ${p.username} still cannot log in after it was created`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  const admin = scramKafka(brokers, adminUser, 'acl-apply').admin();
  await admin.connect();
  try {
    const desired = access.flatMap(aclsFor);
    const managed = new Set(access.map((a) => principalOf(a.service)));
    const plan = planAcls(await currentAcls(admin), desired, managed);
    if (plan.remove.length > 0) {
      await admin.deleteAcls({ filters: plan.remove });
      for (const e of plan.remove) log(`acl removed            ${describeAcl(e)}`);
    }
    if (plan.create.length > 0) {
      await admin.createAcls({ acl: plan.create });
      for (const e of plan.create) log(`acl created            ${describeAcl(e)}`);
    }
    log(`${principals.length} users, ${desired.length} ACLs: ${plan.create.length} created, ${plan.remove.length} removed, ${plan.unchanged} unchanged`);
    return { usersCreated: missing.map((p) => p.username), acls: plan };
  } finally {
    await admin.disconnect();
  }
}
