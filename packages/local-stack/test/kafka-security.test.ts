/**
 * The broker's secured listeners (kafka.mjs `security`, kafka-security.mjs) with a real client (kafkajs): every user
 * logs in with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 on SASL_PLAINTEXT and SASL_SSL, TLS is trusted only with the
 * CA the broker made, wrong passwords are refused; a user added on a later start (storage formatted already) gets
 * its SCRAM credentials too, and the CA stays the same.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { startKafka, stopKafka } from '@flinkfn/local-stack/kafka.mjs';

const test = suite('local Kafka broker: SASL and TLS listeners');
const ALICE = { name: 'alice', password: 'alice-secret-1' };
const BOB = { name: 'bob', password: 'bob-secret-1' };
let dataDir = '';

test.before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'flinkfn-kafka-security-'));
});

test.after(async () => {
  await stopKafka({ dataDir });
  await rm(dataDir, { recursive: true, force: true });
});

/** Connects an admin client and lists topics; the error message when that fails. */
async function login(broker: string, ssl: boolean | { ca: string[] }, sasl?: SASLOptions): Promise<string> {
  const admin = new Kafka({ brokers: [broker], ssl, ...(sasl ? { sasl } : {}), logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 30_000 }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await admin.disconnect();
  }
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

test('a new storage: SASL users with every mechanism, TLS with the broker\'s CA only', async () => {
  const kafka = await startKafka({ dataDir, port: 0, security: { users: [ALICE] }, timeoutMs: 240_000 });
  try {
  const secure = kafka.secure;
  assert.ok(secure, 'the broker reports its secured listeners');
  const ca = { ca: [readFileSync(secure!.caFile, 'utf8')] };
  for (const mechanism of MECHANISMS) {
    // A new options object per client: kafkajs stores its authenticator, bound to the password, in the one it is given.
    const sasl = (password: string) => ({ mechanism, username: ALICE.name, password }) as SASLOptions;
    assert.is(await login(secure!.saslPlaintext, false, sasl(ALICE.password)), 'ok', `SASL_PLAINTEXT ${mechanism}`);
    assert.is(await login(secure!.saslSsl, ca, sasl(ALICE.password)), 'ok', `SASL_SSL ${mechanism}`);
    const refused = await login(secure!.saslPlaintext, false, sasl('wrong'));
    assert.match(refused, /authentication failed/i, `wrong password, ${mechanism}: ${refused}`);
  }
  assert.is(await login(secure!.ssl, ca), 'ok', 'SSL with the CA');
  assert.match(await login(secure!.ssl, true), /self[- ]signed certificate/, 'SSL without the CA');
  assert.is(await login(kafka.bootstrap, false), 'ok', 'PLAINTEXT stays open');
  } finally {
    await kafka.stop();
  }
});

test('a user added on a later start gets SCRAM credentials on the formatted storage; the CA is kept', async () => {
  const before = readFileSync(path.join(dataDir, 'tls', 'ca.pem'), 'utf8');
  const kafka = await startKafka({ dataDir, port: 0, security: { users: [ALICE, BOB] }, timeoutMs: 240_000 });
  try {
  const secure = kafka.secure!;
  assert.is(readFileSync(secure.caFile, 'utf8'), before);
  for (const mechanism of MECHANISMS) {
    // Added through the running broker: its credential cache follows the metadata log, a moment after the command.
    let outcome = '';
    for (const deadline = Date.now() + 60_000; outcome !== 'ok' && Date.now() < deadline; await new Promise((r) => setTimeout(r, 1_000))) {
      outcome = await login(secure.saslSsl, { ca: [before] }, { mechanism, username: BOB.name, password: BOB.password } as SASLOptions);
    }
    assert.is(outcome, 'ok', `bob, ${mechanism}`);
  }
  } finally {
    await kafka.stop();
  }
});

test('names and passwords that would break the broker configuration are refused', async () => {
  const error = await startKafka({ dataDir, port: 0, security: { users: [{ name: 'eve', password: 'a"b' }] } }).catch((e: Error) => e);
  assert.instance(error, Error);
  assert.match((error as Error).message, 'names and passwords may use only letters, digits');
});

test.run();
