/**
 * Who may use the dashboard: a non-loopback address needs a token; with a token, a request without it is
 * refused; without one, a request naming a non-loopback host is refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { useStack } from '../../deploy/test/support/stack.js';
import { checkBinding, DashboardError, startDashboard, type Dashboard } from '../src/index.js';
import { PROJECT } from './support/project.js';

const test = suite('dashboard access');
let open: Dashboard | undefined;
test.after(async () => {
  await open?.close();
});
const stack = useStack(test);

test('a non-loopback address without a token is refused before anything listens', async () => {
  assert.throws(() => checkBinding('0.0.0.0', undefined), (e: unknown) => e instanceof DashboardError && /needs an access token/.test(e.message));
  assert.throws(() => checkBinding('192.168.1.20', ''), (e: unknown) => e instanceof DashboardError);
  checkBinding('127.0.0.1', undefined);
  checkBinding('::1', undefined);
  try {
    await startDashboard({ target: stack().target, root: PROJECT, host: '0.0.0.0' });
    assert.unreachable('started without a token');
  } catch (error) {
    assert.instance(error, DashboardError);
  }
});

test('with a token, every request must carry it: bearer header, ?token= (which sets a cookie), or that cookie', async () => {
  const token = 'a-test-token-0123456789abcdef';
  open = await startDashboard({ target: stack().target, root: PROJECT, host: '0.0.0.0', token });
  const base = `http://127.0.0.1:${open.port}`;
  assert.is((await fetch(`${base}/`)).status, 401, 'the page without a token');
  assert.is((await fetch(`${base}/api/deployments`)).status, 401, 'the API without a token');
  assert.is((await fetch(`${base}/api/deployments`, { headers: { authorization: 'Bearer wrong-token-0123456789abcd' } })).status, 401, 'a wrong token');
  assert.is((await fetch(`${base}/api/deployments`, { headers: { authorization: `Bearer ${token}` } })).status, 200, 'the bearer token');
  const withQuery = await fetch(`${base}/?token=${token}`);
  assert.is(withQuery.status, 200, '?token=');
  const cookie = withQuery.headers.get('set-cookie')?.split(';')[0];
  assert.ok(cookie?.startsWith('flinkfn_dashboard_token='), 'sets the cookie');
  assert.is((await fetch(`${base}/api/topics`, { headers: { cookie: cookie! } })).status, 200, 'the cookie');
  await open.close();
  open = undefined;
});

test('on loopback without a token, a request that names another host (DNS rebinding) is refused', async () => {
  open = await startDashboard({ target: stack().target, root: PROJECT });
  const base = `http://127.0.0.1:${open.port}`;
  assert.is((await fetch(`${base}/api/deployments`)).status, 200);
  const rebound = await new Promise<number>((resolve, reject) => {
    import('node:http').then(({ request }) => {
      request({ host: '127.0.0.1', port: open!.port, path: '/api/deployments', headers: { host: 'attacker.example' } }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end();
    }, reject);
  });
  assert.is(rebound, 403);
  await open.close();
  open = undefined;
});

test.run();
