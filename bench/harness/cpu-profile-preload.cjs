// CPU profiles of the measured windows only, for processes whose command line the bench does not own (the
// services, started by the local-mesh launcher; Node refuses --cpu-prof in NODE_OPTIONS but accepts
// --require). Loaded with `NODE_OPTIONS=--require <this file>` and MAAS_BENCH_CPU_PROFILE_DIR set: the first
// SIGUSR2 starts the V8 profiler (through the in-process inspector), the next one stops it and writes
// profile.<pid>.<n>.cpuprofile into that folder, and so on. Start-up, warm-up and idle time stay out of the
// profile. Main thread only (inference's session workers run native ONNX Runtime code a JS profile cannot see
// into). Plain JavaScript: it runs before anything could compile TypeScript.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');
const { isMainThread } = require('node:worker_threads');

const dir = process.env.MAAS_BENCH_CPU_PROFILE_DIR;
if (dir && isMainThread) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  let running = false;
  let written = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.post('Profiler.start');
      running = true;
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      written += 1;
      if (error) return;
      // Written under a temporary name first, so a reader never sees half a file.
      const file = path.join(dir, `profile.${process.pid}.${written}.cpuprofile`);
      fs.writeFileSync(`${file}.partial`, JSON.stringify(result.profile));
      fs.renameSync(`${file}.partial`, file);
    });
  });
}
