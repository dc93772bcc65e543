// `npm start` under a supervisor: a supervisor signals the one PID it started (npm's, or the launcher's when
// it runs the launcher itself), never the process group. That PID alone must stop every service cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ROOT_DIR } from '../support/example-models.js';

const LAUNCHER = path.join(ROOT_DIR, 'cli', 'dist', 'start-local-mesh.js');
const STOPPED_CLEANLY = 'maas: stopped (model-registry exit 0, tokenizer exit 0, inference exit 0, gateway exit 0, rollout-controller exit 0)';

interface Launch {
  child: ChildProcess;
  output: () => string;
  /** Resolves once a line of the output matches; rejects if the process exits first or after timeoutMs. */
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<void>;
  servicePids: () => number[];
}

/** Starts `command` with free ports and its own data folder; everything is killed at the test's end whatever happens. */
function launch(t: ExecutionContext, command: string, args: string[], options: { ownProcessGroup?: boolean } = {}): Launch {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'maas-start-'));
  const child = spawn(command, [...args, '--ports', 'free', '--data-dir', dataDir], {
    cwd: ROOT_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // "maas: services SERVING: model-registry 127.0.0.1:41234 (pid 123), tokenizer ..."
  const servicePids = () => [...(/^maas: services SERVING: .*$/m.exec(output)?.[0] ?? '').matchAll(/\(pid (\d+)\)/g)].map((match) => Number(match[1]));
  t.teardown(() => {
    for (const pid of servicePids()) killQuietly(pid);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const waitFor = async (pattern: RegExp, timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output}`);
      if (Date.now() > end) throw new Error(`no ${pattern} after ${timeoutMs} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { child, output: () => output, waitFor, servicePids };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return { code: child.exitCode, signal: child.signalCode };
}

test('SIGTERM to the PID of `npm start` stops every service cleanly', async (t) => {
  const run = launch(t, 'npm', ['start', '--']);
  await run.waitFor(/^maas: ready/m, 150_000);
  const pids = run.servicePids();
  t.is(pids.length, 5, run.output());
  t.true(pids.every(isAlive));

  process.kill(run.child.pid!, 'SIGTERM');
  t.deepEqual(await exitOf(run.child), { code: 0, signal: null }, run.output());
  t.true(run.output().includes(STOPPED_CLEANLY), run.output());
  t.deepEqual(pids.filter(isAlive), [], 'service processes still running');
});

test('SIGINT to the launcher PID while the mesh is still starting stops the services started so far', async (t) => {
  const run = launch(t, process.execPath, [LAUNCHER]);
  // SERVING comes before the example packages are registered and loaded: the start is not finished.
  await run.waitFor(/^maas: services SERVING/m, 120_000);
  const pids = run.servicePids();
  t.is(pids.length, 5, run.output());

  process.kill(run.child.pid!, 'SIGINT');
  t.deepEqual(await exitOf(run.child), { code: 0, signal: null }, run.output());
  t.true(run.output().includes(STOPPED_CLEANLY), run.output());
  t.false(run.output().includes('start failed'), run.output());
  t.deepEqual(pids.filter(isAlive), [], 'service processes still running');
});

test('Ctrl-C (SIGINT to the whole foreground process group) stops every service cleanly, as one request', async (t) => {
  // A terminal's Ctrl-C signals npm and the launcher at once, and npm forwards its copy to the launcher.
  const run = launch(t, 'npm', ['start', '--'], { ownProcessGroup: true });
  await run.waitFor(/^maas: ready/m, 150_000);
  const pids = run.servicePids();
  t.is(pids.length, 5, run.output());

  process.kill(-run.child.pid!, 'SIGINT');
  t.deepEqual(await exitOf(run.child), { code: 0, signal: null }, run.output());
  t.true(run.output().includes(STOPPED_CLEANLY), run.output());
  t.false(run.output().includes('exiting now'), run.output());
  t.deepEqual(pids.filter(isAlive), [], 'service processes still running');
});
