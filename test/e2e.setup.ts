// e2e tests talk to a real broker, registry and S3: give them time for group joins and first fetches.
jest.setTimeout(120_000);
