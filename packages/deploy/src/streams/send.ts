/**
 * `flinkfn send <name>`: write events (JSON lines) to a deployment's source topic, for trying a function
 * out and for demos; production sources are written by their own producers.
 */
import type { ResolvedTarget } from '../config.js';
import { kafkaClient, kafkaConnectError } from '../clients/kafka.js';
import { DeployError } from '../errors.js';
import { artifactKey, Deployment } from '../registry.js';
import { openSession } from '../session.js';

/**
 * `lines` is called once the topic is known: a readline interface made earlier would emit (and lose) its
 * lines while the registry is read.
 */
export async function send(target: ResolvedTarget, name: string, lines: () => AsyncIterable<string> | Iterable<string>): Promise<{ topic: string; sent: number }> {
  const session = await openSession(target, { startLocal: false });
  let topic: string;
  try {
    const deployment = await Deployment.load(session.store, name);
    const current = deployment?.current;
    if (!current) throw new DeployError(`no running deployment named "${name}"`, { hint: 'flinkfn ls lists the deployments of this target.' });
    const text = await session.store.getText(artifactKey(current.artifactId));
    if (text === null) throw new DeployError(`the artifact of "${name}" is missing from ${session.store.uri(artifactKey(current.artifactId))}`);
    const { decodeArtifact } = await import('@flinkfn/artifact');
    topic = decodeArtifact(Buffer.from(text, 'utf8'), artifactKey(current.artifactId), current.artifactId).manifest.source.topic;
  } finally {
    await session.close();
  }
  const producer = kafkaClient(session.target, 'flinkfn-send').producer();
  await producer.connect().catch((error: unknown) => {
    throw kafkaConnectError(session.target, error);
  });
  let sent = 0;
  try {
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await producer.send({ topic, messages: batch.map((value) => ({ value })) });
      sent += batch.length;
      batch = [];
    };
    for await (const line of lines()) {
      if (line.trim().length === 0) continue;
      batch.push(line);
      if (batch.length >= 500) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return { topic, sent };
}
