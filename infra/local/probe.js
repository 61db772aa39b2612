#!/usr/bin/env node
// Readiness probe for one local-stack component, used by stack.sh: exits 0 when the component answers
// a real request (broker metadata, registry subjects, S3 list), 1 otherwise.
'use strict';

const component = process.argv[2];
const env = process.env;
const kafkaPort = env.LOCAL_KAFKA_PORT || '9092';
const registryPort = env.LOCAL_REGISTRY_PORT || '8081';
const s3Port = env.LOCAL_S3_PORT || '9000';

async function kafkaReady() {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'stack-probe',
    brokers: [`127.0.0.1:${kafkaPort}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no brokers in metadata');
  } finally {
    await admin.disconnect();
  }
}

async function registryReady() {
  const res = await fetch(`http://127.0.0.1:${registryPort}/apis/ccompat/v7/subjects`, {
    signal: AbortSignal.timeout(2000),
  });
  if (!res.ok) throw new Error(`registry answered ${res.status}`);
}

function localS3() {
  const { S3Client } = require('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: `http://127.0.0.1:${s3Port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'securecart-local', secretAccessKey: 'securecart-local-secret' },
    maxAttempts: 1,
  });
}

async function s3Ready() {
  const { ListBucketsCommand } = require('@aws-sdk/client-s3');
  const s3 = localS3();
  try {
    await s3.send(new ListBucketsCommand({}));
  } finally {
    s3.destroy();
  }
}

// Locally the stack plays the part the CDK app plays in AWS: the lake bucket exists before services boot.
async function createLakeBucket() {
  const { CreateBucketCommand, HeadBucketCommand } = require('@aws-sdk/client-s3');
  const s3 = localS3();
  const Bucket = env.S3_BUCKET || 'securecart-lake';
  try {
    await s3.send(new HeadBucketCommand({ Bucket })).catch(() => s3.send(new CreateBucketCommand({ Bucket })));
  } finally {
    s3.destroy();
  }
}

const probes = { kafka: kafkaReady, registry: registryReady, s3: s3Ready, 'create-lake-bucket': createLakeBucket };
const probe = probes[component];
if (!probe) {
  console.error(`usage: probe.js ${Object.keys(probes).join('|')}`);
  process.exit(2);
}
probe().then(
  () => process.exit(0),
  (err) => {
    console.error(`${component}: ${err.message}`);
    process.exit(1);
  },
);
