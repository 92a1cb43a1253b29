/**
 * `flinkfn send <name> --input events.jsonl`: write JSON lines to a deployment's source topic.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';
import { resolveTarget, withTargetOptions, type TargetArgs } from '../target-options.js';

interface SendArgs extends TargetArgs {
  name: string;
  input: string;
}

export const sendCommand: CommandModule<object, SendArgs> = {
  command: 'send <name>',
  describe: "Write events (JSON lines) to a deployment's source topic",
  builder: (yargs) =>
    withTargetOptions(yargs as Argv<object>)
      .positional('name', { type: 'string', demandOption: true })
      .option('input', { type: 'string', default: '-', describe: 'JSON lines file, - for stdin' })
      .example('$0 send page-views-per-minute --input data/events.jsonl', 'Send the sample events') as Argv<SendArgs>,
  handler: async (args) => {
    const out = createOutput(args.json);
    const { send } = await import('@flinkfn/deploy');
    const lines = (): AsyncIterable<string> =>
      createInterface({ input: args.input === '-' ? process.stdin : createReadStream(args.input), crlfDelay: Infinity });
    const result = await send(await resolveTarget(args), args.name, lines);
    out.info(`sent ${result.sent} events to ${result.topic}`);
    out.data({ ok: true, ...result });
  },
};
