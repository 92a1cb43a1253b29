/**
 * Kafka administration for deployments (kafkajs): create the topics a function declares, delete the
 * ephemeral ones and the consumer group on destroy. Idempotent: creating an existing topic or deleting
 * a missing one is not an error.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
// Before kafkajs: its read_committed filter lets some aborted transactions through (see that module).
import './kafkajs-committed-reads.js';
import { Kafka, logLevel, type Admin, type SASLOptions } from 'kafkajs';
import type { ResolvedTarget } from '../config.js';
import { ConfigError, DeployError, describe } from '../errors.js';

export function kafkaClient(target: ResolvedTarget, clientId = 'flinkfn-cli'): Kafka {
  return new Kafka({
    clientId,
    brokers: target.kafka.brokers,
    ssl: tlsOptions(target.kafka),
    ...(target.kafka.sasl ? { sasl: saslOptions(target.kafka.sasl) } : {}),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 3, initialRetryTime: 200 },
  });
}

function tlsOptions(kafka: ResolvedTarget['kafka']): boolean | ConnectionOptions {
  if (!kafka.tls || kafka.caFile === null) return kafka.tls;
  try {
    return { ca: [readFileSync(kafka.caFile, 'utf8')] };
  } catch (error) {
    throw new ConfigError(`cannot read the Kafka CA file ${kafka.caFile} (${(error as Error).message})`, 'kafka.caFile (FLINKFN_KAFKA_CA_FILE)');
  }
}

/** The environment variables that hold the SASL user name and password. */
export function saslVariables(sasl: NonNullable<ResolvedTarget['kafka']['sasl']>): { usernameEnv: string; passwordEnv: string } {
  return { usernameEnv: sasl.usernameEnv ?? 'FLINKFN_KAFKA_USERNAME', passwordEnv: sasl.passwordEnv ?? 'FLINKFN_KAFKA_PASSWORD' };
}

function saslOptions(sasl: NonNullable<ResolvedTarget['kafka']['sasl']>): SASLOptions {
  const { usernameEnv, passwordEnv } = saslVariables(sasl);
  const username = process.env[usernameEnv];
  const password = process.env[passwordEnv];
  if (!username || !password) {
    throw new ConfigError(`SASL (${sasl.mechanism}) needs ${usernameEnv} and ${passwordEnv} in the environment`, 'kafka.sasl');
  }
  return { mechanism: sasl.mechanism, username, password } as SASLOptions;
}

/**
 * A failed connection to the brokers as an error that names the settings to check: the SASL variables for refused
 * credentials, the CA file for a certificate that is not trusted, the brokers and TLS switch otherwise.
 */
export function kafkaConnectError(target: ResolvedTarget, error: unknown): DeployError | ConfigError {
  if (error instanceof ConfigError) return error;
  const where = `Kafka at ${target.kafka.brokers.join(',')}`;
  const settings = `the "${target.name}" target (${target.source})`;
  const sasl = target.kafka.sasl;
  const message = describe(error);
  if (sasl && causes(error).some((e) => (e as { name?: string }).name === 'KafkaJSSASLAuthenticationError')) {
    const { usernameEnv, passwordEnv } = saslVariables(sasl);
    return new DeployError(`${where} refused the SASL ${sasl.mechanism} login of user "${process.env[usernameEnv] ?? ''}": ${message}`, {
      step: 'connect',
      hint: `Check the user name in ${usernameEnv} and the password in ${passwordEnv} (kafka.sasl.usernameEnv / passwordEnv), and kafka.sasl.mechanism (FLINKFN_KAFKA_SASL_MECHANISM) in ${settings}: a SCRAM user must exist for that mechanism on the brokers.`,
      cause: error,
    });
  }
  if (/certificate|self[- ]signed|unable to verify|CERT_|ERR_TLS/i.test(message)) {
    return new DeployError(`${where}: the brokers' TLS certificate is not trusted: ${message}`, {
      step: 'connect',
      hint: `Set kafka.caFile (FLINKFN_KAFKA_CA_FILE) in ${settings} to the PEM file of the CA that signed the brokers' certificates${target.kafka.caFile ? ` (now ${target.kafka.caFile})` : ''}.`,
      cause: error,
    });
  }
  return new DeployError(`cannot reach ${where}: ${message}`, {
    step: 'connect',
    hint: target.kind === 'local' ? 'Start the local stack with flinkfn local up.' : `Check kafka.brokers, kafka.tls and kafka.sasl in ${settings} (FLINKFN_KAFKA_BROKERS, FLINKFN_KAFKA_TLS, FLINKFN_KAFKA_SASL_MECHANISM): TLS and SASL must match the brokers' listener.`,
    cause: error,
  });
}

/** An error and what it wraps (kafkajs: originalError after retries; Error.cause). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e && typeof e === 'object' && chain.length < 5; e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/**
 * Kafka client properties for the Flink job. Secrets stay out of the job's arguments: they are
 * `${env:NAME}` references that Kafka's EnvVarConfigProvider resolves on the TaskManagers.
 */
export function jobKafkaProperties(target: ResolvedTarget): Record<string, string> {
  const properties: Record<string, string> = {};
  const sasl = target.kafka.sasl;
  if (!target.kafka.tls && !sasl) return properties;
  properties['security.protocol'] = sasl ? (target.kafka.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : 'SSL';
  if (target.kafka.tls && target.kafka.taskManagerCaFile !== null) {
    // Kafka reads a PEM trust store without a password (KIP-651), so the CLI's CA file serves both sides.
    properties['ssl.truststore.type'] = 'PEM';
    properties['ssl.truststore.location'] = target.kafka.taskManagerCaFile;
  }
  if (sasl) {
    const { usernameEnv, passwordEnv } = saslVariables(sasl);
    const user = `\${env:${usernameEnv}}`;
    const password = `\${env:${passwordEnv}}`;
    const module = sasl.mechanism === 'plain' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    properties['sasl.mechanism'] = sasl.mechanism.toUpperCase();
    properties['sasl.jaas.config'] = `${module} required username="${user}" password="${password}";`;
    properties['config.providers'] = 'env';
    properties['config.providers.env.class'] = 'org.apache.kafka.common.config.provider.EnvVarConfigProvider';
  }
  return properties;
}

export class KafkaAdmin {
  private constructor(private readonly admin: Admin) {}

  /** Connects, or throws what kafkaConnectError makes of the failure. */
  static async connect(target: ResolvedTarget): Promise<KafkaAdmin> {
    try {
      const admin = kafkaClient(target).admin();
      await admin.connect();
      return new KafkaAdmin(admin);
    } catch (error) {
      throw kafkaConnectError(target, error);
    }
  }

  async topicExists(topic: string): Promise<boolean> {
    const topics = await this.admin.listTopics();
    return topics.includes(topic);
  }

  /** Creates the topics that do not exist, in one request; returns the ones this call created. */
  async ensureTopics(topics: Array<{ topic: string; partitions: number }>): Promise<string[]> {
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return [];
    try {
      await this.admin.createTopics({ topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: -1 })), waitForLeaders: true });
      return missing.map((t) => t.topic);
    } catch (error) {
      // Waiting for leaders can fail on a broker that has just started ("This server does not host this
      // topic-partition", seen on a fresh local stack) although the topics were created: they are, if every
      // partition gets a leader within a while.
      if (await this.haveLeaders(missing.map((t) => t.topic), 30_000)) return missing.map((t) => t.topic);
      // kafkajs reports per-topic failures in `errors`; the broker's reason is in their messages.
      const failures = (error as { errors?: Array<{ topic?: string; message?: string; type?: string }> }).errors ?? [];
      const topic = failures[0]?.topic ?? missing.map((t) => t.topic).join(', ');
      const reasons = failures.map((e) => e.message ?? e.type).filter(Boolean);
      throw new DeployError(`Kafka refused to create topic "${topic}": ${reasons.length > 0 ? reasons.join('; ') : (error as Error).message}`, {
        step: 'topics',
        hint: 'Pick another topic name in the function, or create the topic yourself (flinkfn then uses it and never deletes it).',
        cause: error,
      });
    }
  }

  /** Whether every partition of these topics has a leader, polling for up to `withinMs`. */
  private async haveLeaders(topics: string[], withinMs: number): Promise<boolean> {
    for (const deadline = Date.now() + withinMs; ; await new Promise((resolve) => setTimeout(resolve, 500))) {
      try {
        const { topics: described } = await this.admin.fetchTopicMetadata({ topics });
        if (described.length === topics.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return true;
      } catch {
        // not there (yet)
      }
      if (Date.now() > deadline) return false;
    }
  }

  /** Deletes a topic and resolves once the broker no longer lists it (deletion is asynchronous in Kafka). */
  async deleteTopic(topic: string): Promise<boolean> {
    if (!(await this.topicExists(topic))) return false;
    await this.admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    for (const deadline = Date.now() + 30_000; await this.topicExists(topic); ) {
      if (Date.now() > deadline) throw new DeployError(`Kafka still lists topic "${topic}" 30 s after deleting it`, { hint: 'Run the command again; deleting is idempotent.' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return true;
  }

  async groupExists(group: string): Promise<boolean> {
    const { groups } = await this.admin.listGroups();
    return groups.some((g) => g.groupId === group);
  }

  async deleteGroup(group: string): Promise<boolean> {
    if (!(await this.groupExists(group))) return false;
    await this.admin.deleteGroups([group]);
    return true;
  }

  /** Each partition's end offset (the offset the next record will get), by partition. */
  async endOffsets(topic: string): Promise<Record<number, string>> {
    const offsets: Record<number, string> = {};
    for (const p of await this.admin.fetchTopicOffsets(topic)) offsets[p.partition] = p.high;
    return offsets;
  }

  /** Offsets a group committed on a topic, by partition (partitions without a commit are absent). */
  async committedOffsets(groupId: string, topic: string): Promise<Record<number, number>> {
    const result: Record<number, number> = {};
    for (const t of await this.admin.fetchOffsets({ groupId, topics: [topic] })) {
      for (const p of t.partitions) if (Number(p.offset) >= 0) result[p.partition] = Number(p.offset);
    }
    return result;
  }

  /** Consumer groups and whether anyone is in them. */
  async listGroups(): Promise<Array<{ groupId: string; empty: boolean }>> {
    const { groups } = await this.admin.listGroups();
    if (groups.length === 0) return [];
    const described = await this.admin.describeGroups(groups.map((g) => g.groupId));
    return described.groups.map((g) => ({ groupId: g.groupId, empty: g.members.length === 0 }));
  }

  async listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect();
  }
}
