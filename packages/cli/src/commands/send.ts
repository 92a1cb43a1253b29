/**
 * `flinkfn send <name> --input events.jsonl`: write JSON lines to a deployment's source topic.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { defineCommand } from '../command.js';
import { resolveTarget } from '../target-options.js';

export const sendCommand = defineCommand({
  command: 'send <name>',
  describe: "Write events (JSON lines) to a deployment's source topic",
  target: true,
  positionals: { name: { type: 'string', demandOption: true } },
  options: {
    input: { type: 'string', default: '-', describe: 'JSON lines file, - for stdin' },
  },
  examples: [['$0 send page-views-per-minute --input data/events.jsonl', 'Send the sample events']],
  run: async (args, out) => {
    const { send } = await import('@flinkfn/deploy');
    const lines = (): AsyncIterable<string> =>
      createInterface({ input: args.input === '-' ? process.stdin : createReadStream(args.input), crlfDelay: Infinity });
    const result = await send(await resolveTarget(args), args.name, lines);
    out.info(`sent ${result.sent} events to ${result.topic}`);
    out.data({ ok: true, ...result });
  },
});
