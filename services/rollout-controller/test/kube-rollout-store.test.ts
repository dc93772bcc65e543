// The Kubernetes side against a small stand-in for the API server (no API server can run here): it answers the
// REST paths and verbs the conventions prescribe and records what the client sent, so these tests check the
// requests themselves — list then watch, status through /status with the resourceVersion and a 409 answered by
// a fresh GET, Events naming the object, the Lease dance, and the kubectl plugin's merge patch.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { runKubectlMaas } from '@maas/cli';
import { createLogger } from '@maas/shared';
import test from 'ava';
import { KubeRolloutStore, LeaseLeaderElector, loadKubernetesClient } from '../src/kube-rollout-store.js';
import type { ModelRolloutDocument } from '../src/model-rollout.js';

interface Recorded {
  method: string;
  url: string;
  contentType: string;
  body: any;
}

const ROLLOUTS = '/apis/maas.dev/v1alpha1/namespaces/maas/modelrollouts';
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/maas/leases/maas-rollout-controller';

function rollout(resourceVersion: string): ModelRolloutDocument {
  return {
    apiVersion: 'maas.dev/v1alpha1',
    kind: 'ModelRollout',
    metadata: { name: 'sentiment', namespace: 'maas', uid: 'uid-1', generation: 2, resourceVersion },
    spec: { model: 'sentiment', stable: '1', candidate: '2', steps: [{ setWeight: 10 }] },
  };
}

/** A stand-in API server: `routes` answer "METHOD path" (query stripped); everything is recorded. */
async function fakeApiServer(routes: Record<string, (request: Recorded, response: http.ServerResponse) => void>) {
  const recorded: Recorded[] = [];
  const watches: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const entry: Recorded = { method: req.method!, url: req.url!, contentType: req.headers['content-type'] ?? '', body: text ? JSON.parse(text) : undefined };
      recorded.push(entry);
      const url = new URL(req.url!, 'http://x');
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        watches.push(res);
        return;
      }
      const route = routes[`${req.method} ${url.pathname}`];
      if (!route) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` }));
        return;
      }
      route(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-kube-'));
  const kubeconfig = path.join(dir, 'config');
  fs.writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'tester', user: { token: 'test-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'tester', namespace: 'maas' } }],
      'current-context': 'fake',
    }),
  );
  return {
    recorded,
    kubeconfig,
    sendWatchEvent: (event: unknown) => watches.forEach((res) => res.write(`${JSON.stringify(event)}\n`)),
    close: async () => {
      watches.forEach((res) => res.end());
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const json = (res: http.ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const logger = createLogger({ service: 'test', level: 'silent' });

test.serial(
  'the store lists then watches, writes status through /status with the resourceVersion and retries a 409 on a fresh read, and records Events on the object',
  async (t) => {
    let puts = 0;
    const api = await fakeApiServer({
      [`GET ${ROLLOUTS}`]: (_, res) =>
        json(res, 200, { apiVersion: 'maas.dev/v1alpha1', kind: 'ModelRolloutList', metadata: { resourceVersion: '5' }, items: [rollout('5')] }),
      [`GET ${ROLLOUTS}/sentiment`]: (_, res) => json(res, 200, rollout('6')),
      [`PUT ${ROLLOUTS}/sentiment/status`]: (request, res) => {
        puts += 1;
        if (puts === 1)
          json(res, 409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified' });
        else json(res, 200, { ...request.body, metadata: { ...request.body.metadata, resourceVersion: '7' } });
      },
      'POST /api/v1/namespaces/maas/events': (request, res) => json(res, 201, request.body),
    });
    process.env.KUBECONFIG = api.kubeconfig;
    const { store } = await KubeRolloutStore.start({ namespace: 'maas', logger, instance: 'pod-a' });
    try {
      const docs = await store.list();
      t.deepEqual(
        docs.map((doc) => [doc.metadata.name, doc.metadata.resourceVersion]),
        [['sentiment', '5']],
      );
      const watch = api.recorded.find((entry) => entry.url.includes('watch=true'))!;
      t.truthy(watch, 'no watch was started after the list');
      t.regex(watch.url, /resourceVersion=5/);

      let changed = 0;
      store.onChange(() => (changed += 1));
      api.sendWatchEvent({ type: 'MODIFIED', object: { ...rollout('8'), spec: { ...rollout('8').spec, paused: true } } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      t.true(changed > 0, 'a watch event did not reach the listener');
      t.is((await store.list())[0]!.spec.paused, true);

      await store.writeStatus(docs[0]!, { phase: 'Progressing', weight: 10, observedGeneration: 2 });
      const statusPuts = api.recorded.filter((entry) => entry.method === 'PUT');
      t.is(statusPuts.length, 2);
      t.is(statusPuts[0]!.body.metadata.resourceVersion, '5');
      t.true(
        api.recorded.some((entry) => entry.method === 'GET' && entry.url.startsWith(`${ROLLOUTS}/sentiment`)),
        'no fresh read after the 409',
      );
      t.is(statusPuts[1]!.body.metadata.resourceVersion, '6');
      t.deepEqual(statusPuts[1]!.body.status, { phase: 'Progressing', weight: 10, observedGeneration: 2 });
      t.regex(statusPuts[1]!.url, /fieldManager=maas-rollout-controller/);

      await store.recordEvent(docs[0]!, { type: 'Normal', reason: 'WeightSet', message: 'step 0: 10 %' });
      const event = api.recorded.find((entry) => entry.method === 'POST')!.body;
      t.like(event, {
        type: 'Normal',
        reason: 'WeightSet',
        message: 'step 0: 10 %',
        involvedObject: { apiVersion: 'maas.dev/v1alpha1', kind: 'ModelRollout', name: 'sentiment', namespace: 'maas', uid: 'uid-1' },
        metadata: { generateName: 'sentiment.' },
      });
      t.true(api.recorded.every((entry) => entry.url.startsWith('/api')));
    } finally {
      store.stop();
      await api.close();
    }
  },
);

test.serial(
  'leader election: creates the Lease when there is none, leaves a live one alone, takes an expired one with a PUT carrying its resourceVersion',
  async (t) => {
    let lease: any;
    const api = await fakeApiServer({
      [`GET ${LEASE}`]: (_, res) => (lease ? json(res, 200, lease) : json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound' })),
      'POST /apis/coordination.k8s.io/v1/namespaces/maas/leases': (request, res) => {
        lease = { ...request.body, metadata: { ...request.body.metadata, resourceVersion: '1' } };
        json(res, 201, lease);
      },
      [`PUT ${LEASE}`]: (request, res) => {
        if (request.body.metadata.resourceVersion !== lease.metadata.resourceVersion) return json(res, 409, { kind: 'Status', code: 409, reason: 'Conflict' });
        lease = { ...request.body, metadata: { ...request.body.metadata, resourceVersion: String(Number(lease.metadata.resourceVersion) + 1) } };
        json(res, 200, lease);
      },
    });
    process.env.KUBECONFIG = api.kubeconfig;
    const k8s = await loadKubernetesClient();
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(api.kubeconfig);
    const changes: string[] = [];
    const elector = (identity: string) =>
      new LeaseLeaderElector(k8s, kubeConfig, {
        namespace: 'maas',
        leaseName: 'maas-rollout-controller',
        identity,
        leaseDurationSeconds: 2,
        retryPeriodMs: 100,
        logger,
        onChange: (leader) => changes.push(`${identity}:${leader}`),
      });
    const a = elector('pod-a');
    const b = elector('pod-b');
    try {
      a.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.deepEqual(changes, ['pod-a:true']);
      t.like(lease.spec, { holderIdentity: 'pod-a', leaseDurationSeconds: 2, leaseTransitions: 0 });
      b.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.false(b.isLeader, 'a second replica took a lease that was being renewed');
      a.stop();
      // pod-a stops renewing; after leaseDurationSeconds pod-b takes over.
      await new Promise((resolve) => setTimeout(resolve, 2_600));
      t.true(b.isLeader);
      t.like(lease.spec, { holderIdentity: 'pod-b', leaseTransitions: 1 });
    } finally {
      a.stop();
      b.stop();
      await api.close();
    }
  },
);

test.serial(
  'kubectl maas: pause is a JSON merge patch of spec.paused, status reads the object and its Events, and a missing object is the API server message',
  async (t) => {
    const api = await fakeApiServer({
      [`PATCH ${ROLLOUTS}/sentiment`]: (_, res) => json(res, 200, rollout('9')),
      [`GET ${ROLLOUTS}/sentiment`]: (_, res) =>
        json(res, 200, { ...rollout('9'), status: { phase: 'Paused', weight: 20, currentStepIndex: 0, message: 'paused' } }),
      'GET /api/v1/namespaces/maas/events': (_, res) =>
        json(res, 200, {
          kind: 'EventList',
          apiVersion: 'v1',
          metadata: {},
          items: [
            {
              metadata: { name: 'e1', namespace: 'maas' },
              involvedObject: {},
              type: 'Normal',
              reason: 'WeightSet',
              message: 'step 0: 20 %',
              lastTimestamp: '2026-01-01T00:00:00Z',
            },
          ],
        }),
    });
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runKubectlMaas(argv, {
        env: {},
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
      });
      return { code, stdout, stderr };
    };
    try {
      const paused = await run('rollout', 'pause', 'modelrollout/sentiment', '-n', 'maas', '--kubeconfig', api.kubeconfig);
      t.is(paused.code, 0, paused.stderr);
      t.is(paused.stdout.trim(), 'modelrollout.maas.dev/sentiment paused');
      const patch = api.recorded.find((entry) => entry.method === 'PATCH')!;
      t.is(patch.contentType, 'application/merge-patch+json');
      t.deepEqual(patch.body, { spec: { paused: true } });

      const promoted = await run('rollout', 'promote', 'sentiment', `--kubeconfig=${api.kubeconfig}`);
      t.is(promoted.code, 0, promoted.stderr);
      t.regex(api.recorded.filter((entry) => entry.method === 'PATCH')[1]!.body.metadata.annotations['maas.dev/action'], /^promote@\d{4}-/);

      const status = await run('rollout', 'status', 'sentiment', '--namespace', 'maas', '--kubeconfig', api.kubeconfig);
      t.is(status.code, 0, status.stderr);
      t.regex(status.stdout, /Phase:\s+Paused/);
      t.regex(status.stdout, /WeightSet\s+step 0: 20 %/);
      t.regex(
        api.recorded.find((entry) => entry.url.startsWith('/api/v1/namespaces/maas/events'))!.url,
        /fieldSelector=involvedObject.kind%3DModelRollout%2CinvolvedObject.name%3Dsentiment/,
      );

      const missing = await run('rollout', 'abort', 'other', '-n', 'maas', '--kubeconfig', api.kubeconfig);
      t.is(missing.code, 1);
      t.regex(missing.stderr, /not found/);
      t.is((await run('rollout', 'restart', 'x')).code, 2);
    } finally {
      await api.close();
    }
  },
);
