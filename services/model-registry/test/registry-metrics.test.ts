import test from 'ava';
import { Registry } from 'prom-client';
import { createRegistryMetrics } from '../src/registry-metrics.js';
import type { RegistryStore } from '../src/registry-store.js';
import { DamagedBlobs } from '../src/storage-check.js';

test('a scrape reads the stored blobs once for both blob gauges, and the next scrape reads them again', async (t) => {
  let reads = 0;
  let blobs = { bytes: 100, count: 2 };
  const store = {
    revision: 7,
    storedBlobs: () => {
      reads += 1;
      return blobs;
    },
  } as unknown as RegistryStore;
  const registry = new Registry();
  const damaged = new DamagedBlobs();
  createRegistryMetrics({ registry, store, damaged });
  const scrape = async () => {
    const text = await registry.metrics();
    const value = (name: string) =>
      Number(
        text
          .split('\n')
          .find((line) => line.startsWith(`${name} `))
          ?.split(' ')
          .pop(),
      );
    return {
      bytes: value('maas_registry_blob_stored_bytes'),
      count: value('maas_registry_blobs'),
      revision: value('maas_registry_revision'),
      damaged: value('maas_registry_damaged_blobs'),
    };
  };

  t.deepEqual(await scrape(), { bytes: 100, count: 2, revision: 7, damaged: 0 });
  t.is(reads, 1);
  blobs = { bytes: 300, count: 3 };
  damaged.mark('ab'.repeat(32), 'is damaged');
  t.deepEqual(await scrape(), { bytes: 300, count: 3, revision: 7, damaged: 1 });
  t.is(reads, 2);
});
