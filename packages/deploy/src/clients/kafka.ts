/**
 * Kafka administration for deployments (kafkajs): create the topics a function declares, delete the
 * ephemeral ones and the consumer group on destroy. Idempotent: creating an existing topic or deleting
 * a missing one is not an error.
 */
import { Kafka, logLevel, type Admin, type SASLOptions } from 'kafkajs';
import type { ResolvedTarget } from '../config.js';
import { ConfigError, DeployError } from '../errors.js';

export function kafkaClient(target: ResolvedTarget, clientId = 'flinkfn-cli'): Kafka {
  return new Kafka({
    clientId,
    brokers: target.kafka.brokers,
    ssl: target.kafka.tls,
    ...(target.kafka.sasl ? { sasl: saslOptions(target.kafka.sasl) } : {}),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 3, initialRetryTime: 200 },
  });
}

function saslOptions(sasl: NonNullable<ResolvedTarget['kafka']['sasl']>): SASLOptions {
  const usernameEnv = sasl.usernameEnv ?? 'FLINKFN_KAFKA_USERNAME';
  const passwordEnv = sasl.passwordEnv ?? 'FLINKFN_KAFKA_PASSWORD';
  const username = process.env[usernameEnv];
  const password = process.env[passwordEnv];
  if (!username || !password) {
    throw new ConfigError(`SASL (${sasl.mechanism}) needs ${usernameEnv} and ${passwordEnv} in the environment`, 'kafka.sasl');
  }
  return { mechanism: sasl.mechanism, username, password } as SASLOptions;
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
  if (sasl) {
    const user = `\${env:${sasl.usernameEnv ?? 'FLINKFN_KAFKA_USERNAME'}}`;
    const password = `\${env:${sasl.passwordEnv ?? 'FLINKFN_KAFKA_PASSWORD'}}`;
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

  static async connect(target: ResolvedTarget): Promise<KafkaAdmin> {
    const admin = kafkaClient(target).admin();
    await admin.connect();
    return new KafkaAdmin(admin);
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
