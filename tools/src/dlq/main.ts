import { Connection } from 'rabbitmq-client';
import { ConfigError } from '@platform/config';
import { SUBSCRIPTIONS } from '@platform/contracts';
import { listDeadLetters, replayDeadLetters, type DeadLetter } from '@platform/messaging';
import { loadDlqConfig } from './config.js';

const USAGE = `usage: npm run dlq -- list <service>
       npm run dlq -- replay <service> [message-id]
services: ${Object.keys(SUBSCRIPTIONS).join(', ')}`;

/** `npm run dlq`: lists a service's dead letters, or sends them (or one) back to its queue. */
async function main(args: string[]): Promise<number> {
  const [command, service, messageId] = args;
  if ((command !== 'list' && command !== 'replay') || !service || !(service in SUBSCRIPTIONS)) {
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
  const connection = new Connection({ url: config.url, retryLow: 100, retryHigh: 500 });
  connection.on('error', () => undefined);
  try {
    await connection.onConnect(5_000, true);
  } catch {
    console.error(
      `RabbitMQ is not reachable at ${new URL(config.url).host} (start it: rabbitmq-server -detached)`,
    );
    return 1;
  }
  try {
    if (command === 'list') {
      const letters = await listDeadLetters(connection, config.exchange, service);
      console.log(`${letters.length} dead letter(s) for ${service}`);
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
