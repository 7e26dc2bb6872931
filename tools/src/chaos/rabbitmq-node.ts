import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/** A RabbitMQ node of the chaos run's own, which it may kill without touching the machine's broker. */
export interface RabbitmqNode {
  /** The Erlang node name, `<name>@localhost`. */
  readonly node: string;
  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  readonly url: string;
  /**
   * Runs one of RabbitMQ's CLI tools against this node (its cookie, its name), resolving with its
   * output; rejects when the tool fails or runs longer than `timeoutMs` (30 s by default).
   */
  cli(tool: 'rabbitmqctl' | 'rabbitmq-queues', args: readonly string[], timeoutMs?: number): Promise<string>;
  /** `kill -9` of the node's Erlang VM; resolves once its AMQP port refuses connections. */
  kill(): Promise<void>;
  /** Starts the node again on the same data directory (durable queues and persistent messages survive). */
  start(): Promise<void>;
  /** Kills the node if it runs; never throws. */
  stop(): Promise<void>;
  /**
   * Sends `signal` to the node's Erlang VM: SIGSTOP freezes it with its sockets open (a broker that hangs:
   * connections accepted by the kernel, nothing answered, no heartbeat); SIGCONT thaws it.
   */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  /**
   * Whether stopping the node now would leave a quorum queue without a majority of its members online
   * (`rabbitmq-queues check_if_node_is_quorum_critical`); true too when the check cannot be made.
   */
  isQuorumCritical(): Promise<boolean>;
}

const START_TIMEOUT_MS = 120_000;
const run = promisify(execFile);

/**
 * Starts a node named `name@localhost` with a data, log and configuration directory of its own under
 * `dir`, the AMQP listener on 127.0.0.1:`port`, Erlang distribution on `distPort` and no plugins (the
 * machine's management plugin already holds 15672), using RabbitMQ's documented environment variables
 * (RABBITMQ_NODENAME, RABBITMQ_MNESIA_BASE, RABBITMQ_CONFIG_FILE, …; rabbitmq.com "Configuration"). The
 * machine's rabbitmq-env.conf and rabbitmq.conf are not read. Throws if the node does not start.
 *
 * With `cluster`, the node shares that Erlang cookie and finds its peers by RabbitMQ's classic config peer
 * discovery (rabbitmq.com "Cluster Formation and Peer Discovery"): started after the first of them, it
 * joins the first's cluster on its first boot.
 */
export async function createRabbitmqNode(options: {
  server: string;
  /** The environment the server script runs in (PATH, …), before this node's own variables. */
  env: Record<string, string | undefined>;
  dir: string;
  name: string;
  port: number;
  distPort: number;
  cluster?: { cookie: string; nodes: readonly string[] };
}): Promise<RabbitmqNode> {
  const { dir, port, cluster } = options;
  const node = `${options.name}@localhost`;
  await mkdir(dir, { recursive: true });
  const peers = (cluster?.nodes ?? []).map(
    (peer, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${peer}\n`,
  );
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    `listeners.tcp.local = 127.0.0.1:${port}\n` +
      (cluster ? `cluster_formation.peer_discovery_backend = classic_config\n${peers.join('')}` : ''),
  );
  if (cluster) {
    // Erlang refuses a cookie file others can read.
    await writeFile(join(dir, '.erlang.cookie'), cluster.cookie, { mode: 0o400 });
  }
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  const pidFile = join(dir, 'rabbitmq.pid');
  const env = {
    ...options.env,
    // The Erlang cookie is created in HOME: this node's own, not the user's.
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(options.distPort),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: pidFile,
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
  const log = createWriteStream(join(dir, 'rabbitmq-server.log'), { flags: 'a' });

  async function start(): Promise<void> {
    const server = spawn(options.server, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.pipe(log, { end: false });
    server.stderr.pipe(log, { end: false });
    const state = { exited: false };
    server.once('exit', () => (state.exited = true));
    server.once('error', () => (state.exited = true));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await accepts(port))) {
      if (state.exited) throw new Error(`RabbitMQ node ${options.name} exited while starting (see ${dir})`);
      if (Date.now() > deadline) throw new Error(`RabbitMQ node ${options.name} not up after 120 s`);
      await sleep(200);
    }
  }

  async function kill(): Promise<void> {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    while (await accepts(port)) await sleep(50);
  }

  const cliEnv = { ...options.env, HOME: dir, RABBITMQ_NODENAME: node, ERL_EPMD_ADDRESS: '127.0.0.1' };
  const cli = async (tool: string, args: readonly string[], timeoutMs = 30_000): Promise<string> => {
    const { stdout } = await run(join(dirname(options.server), tool), ['-n', node, ...args], {
      env: cliEnv,
      timeout: timeoutMs,
    });
    return stdout;
  };
  await start();
  return {
    node,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    kill,
    start,
    stop: () => kill().catch(() => undefined),
    async signal(signal) {
      process.kill(Number((await readFile(pidFile, 'utf8')).trim()), signal);
    },
    cli,
    isQuorumCritical: () =>
      cli('rabbitmq-queues', ['check_if_node_is_quorum_critical']).then(
        () => false,
        () => true,
      ),
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
