import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../isolated-system.js';
import { createRabbitmqNode, type RabbitmqNode } from './rabbitmq-node.js';

/** A RabbitMQ cluster of the chaos run's own: its nodes, and the URL listing them all (RABBITMQ_URL). */
export interface RabbitmqCluster {
  readonly nodes: readonly RabbitmqNode[];
  /** Every node's URL, separated by commas: what the services are given. */
  readonly url: string;
  /**
   * What keeps the topology from being replicated on every node: each quorum queue without a member on
   * every node (`queue: members`), and each of `expected` that is not there at all; [] when none.
   */
  queuesNotOnEveryNode(expected: readonly string[]): Promise<string[]>;
  /** Kills every node; never throws. */
  stop(): Promise<void>;
}

/**
 * Starts `size` nodes named `<name>-1@localhost` … on free ports under `dir`, one after the other (each
 * later one joins the first's cluster, see createRabbitmqNode), and waits until the first sees all of them
 * running (`rabbitmqctl await_online_nodes`). Throws if a node does not start or the cluster does not form
 * within two minutes.
 */
export async function createRabbitmqCluster(options: {
  server: string;
  env: Record<string, string | undefined>;
  dir: string;
  name: string;
  size: number;
}): Promise<RabbitmqCluster> {
  const names = Array.from({ length: options.size }, (_, i) => `${options.name}-${i + 1}`);
  const cluster = {
    cookie: randomBytes(16).toString('hex').toUpperCase(),
    nodes: names.map((n) => `${n}@localhost`),
  };
  const nodes: RabbitmqNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (const name of names) {
      nodes.push(
        await createRabbitmqNode({
          server: options.server,
          env: options.env,
          dir: join(options.dir, name),
          name,
          port: await freePort(),
          distPort: await freePort(),
          cluster: options.size > 1 ? cluster : undefined,
        }),
      );
    }
    if (options.size > 1) {
      await (nodes[0] as RabbitmqNode).cli(
        'rabbitmqctl',
        ['await_online_nodes', String(options.size)],
        120_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    url: nodes.map((node) => node.url).join(','),
    async queuesNotOnEveryNode(expected) {
      // Asked of the first node: the chaos run asks before any fault, while every node runs.
      const stdout = await (nodes[0] as RabbitmqNode).cli('rabbitmqctl', [
        'list_queues',
        'name',
        'type',
        'members',
        '--formatter',
        'json',
      ]);
      const queues = JSON.parse(stdout) as { name: string; type: string; members: string[] | '' }[];
      const listed = new Set(queues.map((queue) => queue.name));
      const missing = expected.filter((name) => !listed.has(name)).map((name) => `${name}: not declared`);
      return queues
        .filter((queue) => queue.type === 'quorum')
        .filter((queue) => !cluster.nodes.every((node) => (queue.members || []).includes(node)))
        .map((queue) => `${queue.name}: ${(queue.members || []).join(' ') || 'no members'}`)
        .concat(missing);
    },
    stop,
  };
}
