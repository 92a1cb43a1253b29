/**
 * `flinkfn dashboard`: serves the dashboard page (packages/dashboard) until stopped. On 127.0.0.1 by
 * default; any other address needs an access token, which every request must then carry.
 */
import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';
import { resolveTarget } from '../target-options.js';

export const dashboardCommand = defineCommand({
  command: 'dashboard',
  describe: 'Serve a live web page of the deployments, their windowed results, late events, dead letters and ad-hoc queries',
  target: true,
  options: {
    host: { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; anything but loopback needs --token' },
    port: { type: 'number', default: 8090, describe: 'Port (0: a free one)' },
    token: { type: 'string', describe: 'Access token every request must carry (env FLINKFN_DASHBOARD_TOKEN)' },
    grace: { type: 'number', default: 10, describe: 'Seconds an ad-hoc query runs after its last viewer left' },
    'query-ttl': { type: 'number', default: 3600, describe: "Seconds of TTL on ad-hoc queries (the controller's backstop if the dashboard dies)" },
    'query-checkpoint-interval': { type: 'number', describe: "Milliseconds between checkpoints of ad-hoc queries, whose results show when a checkpoint commits them (default 500; 0: the target's interval)" },
  },
  examples: [
    ['$0 dashboard', 'Open http://127.0.0.1:8090/'],
    ['$0 dashboard --host 0.0.0.0 --token "$(openssl rand -hex 24)"', 'Reachable from other machines: open http://<host>:8090/?token=<token>'],
  ],
  epilog: 'Stream endpoints and their event format: docs/dashboard.md. Ctrl-C stops the server and tears down its ad-hoc queries.',
  run: async (args, out) => {
    const { startDashboard } = await import('@flinkfn/dashboard');
    const token = args.token ?? process.env.FLINKFN_DASHBOARD_TOKEN;
    let dashboard;
    try {
      dashboard = await startDashboard({
        target: await resolveTarget(args),
        root: args.root,
        host: args.host,
        port: args.port,
        ...(token ? { token } : {}),
        graceMs: args.grace * 1000,
        queryTtlMs: args['query-ttl'] * 1000,
        ...(args['query-checkpoint-interval'] !== undefined ? { queryCheckpointIntervalMs: args['query-checkpoint-interval'] } : {}),
        onLog: (line) => out.progress(line),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'DashboardError') throw new UserError(error.message, (error as Error & { hint?: string }).hint);
      throw error;
    }
    out.info(`dashboard on ${dashboard.url}${token ? ' (requests need the token: open it once with ?token=<token>)' : ''}`);
    out.data({ url: dashboard.url, port: dashboard.port });
    const running = dashboard;
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.close().finally(resolve));
    });
  },
});
