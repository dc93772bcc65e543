import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { availableCpus } from '../src/available-cpus.js';

const fixture = (name: string) => path.join(__dirname, 'fixtures', 'cgroup', name);

test('cgroup v2: a fractional quota at the mount root rounds down', (t) => {
  t.deepEqual(availableCpus({ root: fixture('v2-fractional'), parallelism: 8 }), { cpus: 1, source: 'cgroup-v2', quota: 1.5 });
});

test('cgroup v2: the smallest quota on the way up from the process cgroup wins', (t) => {
  t.deepEqual(availableCpus({ root: fixture('v2-nested'), parallelism: 64 }), { cpus: 4, source: 'cgroup-v2', quota: 4 });
});

test('a quota above what the scheduler offers leaves the scheduler count', (t) => {
  t.deepEqual(availableCpus({ root: fixture('v2-nested'), parallelism: 2 }), { cpus: 2, source: 'os', quota: 4 });
});

test('cgroup v2 without a quota ("max") falls back to the scheduler count', (t) => {
  t.deepEqual(availableCpus({ root: fixture('v2-unlimited'), parallelism: 6 }), { cpus: 6, source: 'os' });
});

test('cgroup v1: the mount root is read when the host path from /proc/self/cgroup is not mounted', (t) => {
  t.deepEqual(availableCpus({ root: fixture('v1-host-path'), parallelism: 16 }), { cpus: 3, source: 'cgroup-v1', quota: 3 });
});

test('cgroup v1 with quota -1 and a machine without cgroup files fall back to the scheduler count', (t) => {
  t.deepEqual(availableCpus({ root: fixture('v1-unlimited'), parallelism: 5 }), { cpus: 5, source: 'os' });
  t.deepEqual(availableCpus({ root: fixture('does-not-exist'), parallelism: 3 }), { cpus: 3, source: 'os' });
});

test('on this machine: at least 1 and never above os.availableParallelism()', (t) => {
  const { cpus } = availableCpus();
  t.true(cpus >= 1 && cpus <= os.availableParallelism());
});
