// coldbench node runner: runs one WebAssembly module under V8 through
// Node.js's `node:wasi` (WASI preview 1) as one process per instance.
//
// Usage: node --no-warnings runner.mjs <module.wasm> [guest argv...]
// (environment COLDBENCH_WORKLOAD_DIR: a directory to preopen as `.`)
//
// The guest's stdin and stdout are this process's own pipes, reopened through
// /dev/stdin and /dev/stdout: a fresh open file description each, in blocking
// mode whatever node does to fds 0 and 1 (libuv may set O_NONBLOCK on them,
// and WASI's fd_read would then fail with EAGAIN). The workload protocol is
// byte-for-byte the native one. Before the guest
// runs, the runner writes one line to stderr with its own phase stamps, so the
// harness can separate node's process start from V8's compile and instantiate:
//
//   COLDBENCH-NODE-PHASES script_start_ns=.. read_ns=.. compiled_ns=.. instantiated_ns=..
//
// Stamps are process.hrtime.bigint(): libuv's uv_hrtime, CLOCK_MONOTONIC in
// nanoseconds on Linux, the clock the harness reads.
import { constants, openSync, readFileSync, writeSync } from 'node:fs';
import { WASI } from 'node:wasi';
import process from 'node:process';

const scriptStartNs = process.hrtime.bigint();
const [modulePath, ...guestArgs] = process.argv.slice(2);
if (!modulePath) {
  writeSync(2, 'usage: node runner.mjs <module.wasm> [guest argv...]\n');
  process.exit(2);
}

let bytes;
try {
  bytes = readFileSync(modulePath);
} catch (e) {
  writeSync(2, `cannot read Wasm module ${modulePath}: ${e.message}\n`);
  process.exit(2);
}
const readNs = process.hrtime.bigint();

let module;
try {
  // V8 defaults: Liftoff baseline compile now, TurboFan tier-up of hot functions later.
  module = await WebAssembly.compile(bytes);
} catch (e) {
  writeSync(2, `${modulePath} is not a valid WebAssembly module: ${e.message}\n`);
  process.exit(2);
}
const compiledNs = process.hrtime.bigint();

const stdinFd = openSync('/dev/stdin', constants.O_RDONLY);
const stdoutFd = openSync('/dev/stdout', constants.O_WRONLY);
// A --workload-dir command's directory, preopened as `.` (node:wasi has no
// read-only preopen: the guest could write there).
const workloadDir = process.env.COLDBENCH_WORKLOAD_DIR;
const wasi = new WASI({
  version: 'preview1',
  args: guestArgs,
  env: {},
  preopens: workloadDir ? { '.': workloadDir } : {},
  stdin: stdinFd,
  stdout: stdoutFd,
  stderr: 2,
  returnOnExit: true,
});
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const instantiatedNs = process.hrtime.bigint();

writeSync(
  2,
  `COLDBENCH-NODE-PHASES script_start_ns=${scriptStartNs} read_ns=${readNs} ` +
    `compiled_ns=${compiledNs} instantiated_ns=${instantiatedNs}\n`,
);

let code;
try {
  code = wasi.start(instance);
} catch (e) {
  writeSync(2, `guest trapped: ${e && e.stack ? e.stack : e}\n`);
  process.exit(70);
}
process.exit(code);
