import { Connection } from 'rabbitmq-client';
import { ConfigError } from '@platform/config';
import { SUBSCRIPTIONS } from '@platform/contracts';
import {
  brokerAddresses,
  countDeadLetters,
  listDeadLetters,
  replayDeadLetters,
  upgradeQueues,
  type DeadLetter,
} from '@platform/messaging';
import { loadDlqConfig } from './config.js';

const USAGE = `usage: npm run dlq -- list <service>
       npm run dlq -- replay <service> [message-id]
       npm run dlq -- upgrade-queues [service]   (services stopped: see the README's upgrade notes)
services: ${Object.keys(SUBSCRIPTIONS).join(', ')}`;

/**
 * `npm run dlq`: lists a service's dead letters, sends them (or one) back to its queue, or brings the
 * queues an earlier version declared to this version's arguments.
 */
async function main(args: string[]): Promise<number> {
  const [command, service, messageId] = args;
  const known = service !== undefined && service in SUBSCRIPTIONS;
  const valid =
    ((command === 'list' || command === 'replay') && known) ||
    (command === 'upgrade-queues' && (service === undefined || known) && messageId === undefined);
  if (!valid) {
    console.error(USAGE);
    return 2;
  }
  let config: ReturnType<typeof loadDlqConfig>;
  try {
    config = loadDlqConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const connection = new Connection({ ...brokerAddresses(config.url), retryLow: 100, retryHigh: 500 });
  connection.on('error', () => undefined);
  try {
    await connection.onConnect(5_000, true);
  } catch {
    console.error(
      `RabbitMQ is not reachable at ${brokerAddresses(config.url).hosts.join(', ')} (start it: rabbitmq-server -detached)`,
    );
    return 1;
  }
  try {
    if (command === 'upgrade-queues') {
      for (const name of service === undefined ? Object.keys(SUBSCRIPTIONS) : [service]) {
        const upgraded = await upgradeQueues(connection, config.exchange, name, {
          retryDelaysMs: config.retryDelaysMs,
          bindingKeys: SUBSCRIPTIONS[name as keyof typeof SUBSCRIPTIONS],
        });
        for (const queue of upgraded) {
          console.log(`${queue.queue}: declared anew, ${queue.messages} message(s) carried over`);
        }
        if (upgraded.length === 0) console.log(`${name}: every queue already as this version declares it`);
      }
    } else if (service === undefined) {
      return 2;
    } else if (command === 'list') {
      const total = await countDeadLetters(connection, config.exchange, service);
      const letters = await listDeadLetters(connection, config.exchange, service);
      console.log(
        letters.length < total
          ? `${total} dead letter(s) for ${service}, the first ${letters.length} here (moved to the back of the queue: list again for the next)`
          : `${total} dead letter(s) for ${service}`,
      );
      for (const letter of letters) console.log(describe(letter));
    } else {
      const replayed = await replayDeadLetters(
        connection,
        config.exchange,
        service,
        messageId === undefined ? 'all' : [messageId],
      );
      console.log(`replayed ${replayed.length} dead letter(s) to ${config.exchange}.${service}`);
      for (const letter of replayed) console.log(describe(letter));
      if (messageId !== undefined && replayed.length === 0) {
        console.error(`no dead letter with message id ${messageId}`);
        return 1;
      }
    }
    return 0;
  } finally {
    await connection.close();
  }
}

function describe(letter: DeadLetter): string {
  return [
    `- ${letter.messageId ?? '(no id)'}  ${letter.routingKey}  order ${letter.correlationId ?? '?'}`,
    `  attempts: ${letter.attempts ?? '?'}  last error: ${letter.lastError ?? '?'}`,
    `  body: ${letter.body.length > 300 ? `${letter.body.slice(0, 300)}…` : letter.body}`,
  ].join('\n');
}

process.exitCode = await main(process.argv.slice(2));
