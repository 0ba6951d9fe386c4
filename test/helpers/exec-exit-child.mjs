// A stand-in for a deployctl process: runs a long step through the exec port, then leaves in the way argv[3] says.
// Usage: node exec-exit-child.mjs <transpiled exec port .mjs> exit|sigterm|throw
// Prints `pid <n>` once the step's group exists, then `ready` when it is listening for SIGTERM.
const [portPath, mode] = process.argv.slice(2);
const { execCommand, killAllRunning } = await import(portPath);

if (mode === 'sigterm') {
  // What the CLI's handler does when it has no time for a graceful stop: signal every group, then exit.
  process.on('SIGTERM', () => {
    killAllRunning('SIGTERM');
    process.exit(143);
  });
}

void execCommand({
  command: { shell: 'trap "" TERM; sleep 30 & sleep 30' },
  cwd: process.cwd(),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  onSpawn: (pid) => {
    process.stdout.write(`pid ${pid}\n`);
    setTimeout(() => {
      if (mode === 'exit') process.exit(0);
      if (mode === 'throw') throw new Error('an unexpected bug');
      process.stdout.write('ready\n');
    }, 200);
  },
});
