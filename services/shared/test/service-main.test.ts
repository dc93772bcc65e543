// runServiceMain in a real child process: exit codes, what reaches stderr, and the stop on SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { CONFIG_ERROR_EXIT_CODE, START_FAILURE_EXIT_CODE } from '../src/service-main.js';

const FIXTURE = path.join(__dirname, 'fixtures', 'fake-service-main.ts');

/** Runs the fixture; `onStdout` sees each chunk of stdout (to send signals at the right moment). */
function runFixture(env: Record<string, string>, onStdout?: (text: string, child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, ['--import=tsx', FIXTURE], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('an invalid configuration exits 2, naming every bad variable', async (t) => {
  const result = await runFixture({ GRPC_PORT: 'abc', FAKE_FAIL_START: 'perhaps' });
  t.is(result.code, CONFIG_ERROR_EXIT_CODE);
  t.is(CONFIG_ERROR_EXIT_CODE, 2);
  t.regex(result.stderr, /^fake: invalid configuration:\n {2}- GRPC_PORT=/);
  t.regex(result.stderr, /FAKE_FAIL_START="perhaps" is not a boolean/);
  t.is(result.stdout, '');
});

test('a failed start exits 1 with the stack', async (t) => {
  const result = await runFixture({ FAKE_FAIL_START: 'true' });
  t.is(result.code, START_FAILURE_EXIT_CODE);
  t.regex(result.stderr, /^fake: failed to start: Error: boom\n {4}at /);
});

test('SIGTERM stops the service and exits 0', async (t) => {
  const result = await runFixture({}, (stdout, child) => {
    if (stdout === 'started\n') child.kill('SIGTERM');
  });
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout, 'started\nstopped\n');
});
