import * as grpc from '@grpc/grpc-js';
import { contracts, type ClassifyRequest, type ClassifyResponse__Output } from '@maas/protos';
import test from 'ava';
import { invalidArgument } from '../src/errors.js';
import { checkHealth, createClient, unaryCall } from '../src/grpc-client.js';
import { startGrpcServer } from '../src/grpc-server.js';
import { unary } from '../src/handlers.js';
import { createLogger } from '../src/logger.js';
import { createServiceMetrics, startMetricsServer } from '../src/metrics.js';

const logger = createLogger({ service: 'test', level: 'silent' });

test('health follows setServing; handler errors become statuses; metrics count them', async (t) => {
  const metrics = createServiceMetrics({ service: 'test' });
  const ctx = { logger, metrics };
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    services: [
      {
        name: 'maas.v1.Gateway',
        definition: contracts().maas.v1.Gateway.service,
        implementation: {
          Classify: unary<ClassifyRequest, object>(
            'Classify',
            async (request) => {
              if (request.model === 'boom') throw new Error('secret internal detail');
              if (!request.model) throw invalidArgument('model is empty');
              return { predictions: [{ label: 'x', score: 0.5, model_version: '1' }] };
            },
            ctx,
          ),
        },
      },
    ],
  });
  t.is(await checkHealth(`127.0.0.1:${server.port}`, { service: 'maas.v1.Gateway' }), 'NOT_SERVING');
  server.setServing(true);
  t.is(await checkHealth(`127.0.0.1:${server.port}`), 'SERVING');

  const client = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${server.port}`);
  const classify = (request: ClassifyRequest) =>
    unaryCall<ClassifyRequest, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), request, { deadline: 5_000 });
  t.is((await classify({ model: 'm', texts: ['a'] })).predictions[0]!.label, 'x');
  await t.throwsAsync(classify({ model: '' }), { code: grpc.status.INVALID_ARGUMENT, message: /model is empty/ } as never);
  const internal = await t.throwsAsync(classify({ model: 'boom' }));
  t.is((internal as grpc.ServiceError).code, grpc.status.INTERNAL);
  t.notRegex(internal!.message, /secret/);

  const metricsServer = await startMetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' });
  const text = await (await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`)).text();
  t.regex(text, /maas_grpc_server_requests_total\{method="Classify",code="INVALID_ARGUMENT",maas_service="test"\} 1/);
  await metricsServer.close();

  client.close();
  await server.stop({ graceMs: 0, deadlineMs: 1_000 });
});
