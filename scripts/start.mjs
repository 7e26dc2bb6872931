// `npm start`: the third-party simulators and every service, each its own process, their output
// prefixed, stopped together. Issue 5 grows this into a supervisor (health waits, restarts, URLs).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const processes = [
  { name: 'simulators', entry: 'simulators/dist/src/main.js' },
  { name: 'order', entry: 'services/order/dist/src/main.js' },
  { name: 'inventory', entry: 'services/inventory/dist/src/main.js' },
  { name: 'payment', entry: 'services/payment/dist/src/main.js' },
  { name: 'fulfilment', entry: 'services/fulfilment/dist/src/main.js' },
  { name: 'notification', entry: 'services/notification/dist/src/main.js' },
];

let stopping = false;
const children = processes.map(({ name, entry }) => {
  const child = spawn(process.execPath, [entry], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stdout.write(`[${name}] exited (${signal ?? code}); stopping the rest\n`);
      process.exitCode = 1;
      stop();
    }
  });
  return child;
});

function stop() {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
