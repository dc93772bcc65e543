/**
 * The NATS user of components/nats: the server started with that component's own nats.conf (credentials from its
 * environment, as the Secret maas-nats fills it in a cluster), and the services' event bus configured the way the
 * pods are (NATS_USER, NATS_PASSWORD read by serverConfig): with the credentials it connects, without them or
 * with a wrong password it does not, and the password never reaches a log line.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import pino from 'pino';
import { REGISTRY_EVENT_STREAM } from '@maas/registry-client';
import { configReader, connectEventBus, serverConfig, type EventBus } from '@maas/shared';
import { eventually } from '../support/eventually.js';
import { ROOT_DIR } from '../support/example-models.js';
import { natsServerBinary, startPrivateNats } from '../support/private-nats.js';

const withNatsServer = natsServerBinary ? test : test.skip;

withNatsServer(
  `components/nats asks for the user from the Secret; services connect with NATS_USER/NATS_PASSWORD and never log the password${natsServerBinary ? '' : ' (skipped: no nats-server binary)'}`,
  async (t) => {
    // Starting with a letter, as k8s/components/nats suggests: nats-server parses an environment value as config.
    const credentials = { NATS_USER: 'maas', NATS_PASSWORD: `p${randomBytes(24).toString('hex')}` };
    const nats = await startPrivateNats({ configFile: path.join(ROOT_DIR, 'k8s', 'components', 'nats', 'nats.conf'), env: credentials });
    t.teardown(() => nats.stop());
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _encoding, callback) {
          lines.push(String(chunk));
          callback();
        },
      }),
    );
    const buses: EventBus[] = [];
    t.teardown(() => Promise.all(buses.map((bus) => bus.close())));
    const busWith = (env: Record<string, string>, name: string) => {
      const config = serverConfig(configReader({ NATS_URL: nats.url, TLS_MODE: 'plaintext', ...env }), { grpc: 0, metrics: -1 });
      const bus = connectEventBus({
        url: config.natsUrl,
        user: config.natsUser,
        password: config.natsPassword,
        name,
        logger,
        stream: REGISTRY_EVENT_STREAM,
        retryMs: 100,
      });
      buses.push(bus);
      return bus;
    };

    const authorized = busWith(credentials, 'with-credentials');
    const anonymous = busWith({}, 'anonymous');
    const wrong = busWith({ ...credentials, NATS_PASSWORD: 'not-the-password' }, 'wrong-password');
    await eventually('the authorized bus connects', () => authorized.connected, { timeoutMs: 10_000, intervalMs: 50 });
    t.true(await authorized.publish('maas.events.registry.test.version-registered', new Uint8Array([1])));
    // Several retries of the other two have been refused by now.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    t.false(anonymous.connected, 'no credentials: refused');
    t.false(wrong.connected, 'wrong password: refused');
    t.false(await anonymous.publish('maas.events.registry.test.version-registered', new Uint8Array([1])));

    t.true(lines.length > 0);
    t.false(
      lines.some((line) => line.includes(credentials.NATS_PASSWORD) || line.includes('not-the-password')),
      'no password in the logs',
    );
  },
);
