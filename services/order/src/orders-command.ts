import { ConfigError } from '@platform/config';
import { createKysely, createPool } from '@platform/postgres';
import { loadOrderConfig } from './config.js';
import type { OrderDatabase } from './database.js';
import { isOrderId } from './orders/order.js';
import { rebuildOrders } from './orders/rebuild-orders.js';

const USAGE = `usage: npm run orders -- rebuild [order-id] [--repair]
  Folds each order's history (or one order's) and compares the result with the order's row.
  Exit status 0 when every row is the fold of its history, 1 when one is not (each listed);
  with --repair, such rows are rewritten from their histories.`;

/** `npm run orders`: operator commands on the order service's database (ORDER_DATABASE_URL). */
async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const repair = rest.includes('--repair');
  const positional = rest.filter((arg) => arg !== '--repair');
  const [orderId] = positional;
  if (command !== 'rebuild' || positional.length > 1 || (orderId !== undefined && !isOrderId(orderId))) {
    console.error(USAGE);
    return 2;
  }
  let config: ReturnType<typeof loadOrderConfig>;
  try {
    config = loadOrderConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const pool = createPool({
    connectionString: config.databaseUrl,
    max: 2,
    applicationName: 'orders-command',
  });
  try {
    const report = await rebuildOrders(createKysely<OrderDatabase>(pool), {
      repair,
      ...(orderId === undefined ? {} : { orderId }),
    });
    if (orderId !== undefined && report.checked === 0) {
      console.error(`no order ${orderId}`);
      return 1;
    }
    for (const mismatch of report.mismatches) {
      console.log(`- ${mismatch.orderId}: ${mismatch.fields.join(', ')} differ from its history`);
    }
    console.log(
      `${report.checked} order(s) rebuilt from their histories: ` +
        (report.mismatches.length === 0
          ? 'every row is identical to its history'
          : `${report.mismatches.length} differ` + (repair ? `, ${report.repaired} rewritten` : '')),
    );
    return report.mismatches.length > 0 && !repair ? 1 : 0;
  } finally {
    await pool.end();
  }
}

process.exitCode = await main(process.argv.slice(2));
