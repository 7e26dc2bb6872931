import { loadSimulatorsConfig } from '@platform/simulators';
import { loadFulfilmentConfig } from '@services/fulfilment';
import { loadInventoryConfig } from '@services/inventory';
import { loadConsoleConfig } from '@services/console';
import { loadNotificationConfig } from '@services/notification';
import { loadOrderConfig } from '@services/order';
import { loadPaymentConfig } from '@services/payment';

/**
 * A process the supervisor runs: its entry point, the URLs that say it is ready, and its scheduling
 * priority (a nice value: 0, the default, or higher for less CPU when the host has too little).
 */
export interface ChildSpec {
  name: string;
  entry: string;
  readinessUrls: string[];
  niceness: number;
}

/**
 * The nice value of every process behind the order API (the other services, the simulators, the console)
 * when they share a host with it, as under npm start. Past what two cores can do, every process waits for
 * a core most of the time (measured: the order service's thread ran 25 % of the time and waited in the run
 * queue 75 %, at 250 orders a second), and the API could no longer even refuse within a second: a flood of
 * new connections at three times the sustainable rate left half the requests unanswered after 10 s. With
 * the rest at nice 10, the front door gets a core when it needs one, refuses what it cannot take at once,
 * and the work behind it uses what remains (issue 21). Hosts of their own (Kubernetes) give each service
 * its CPU by its requests and limits instead.
 */
export const BEHIND_THE_API_NICENESS = 10;

/** What the running system looks like: where each part listens and where each database is. */
export interface SystemLayout {
  children: ChildSpec[];
  databaseUrls: string[];
  rabbitmq: { url: string; exchange: string };
  urls: Record<'order' | 'inventory' | 'payment' | 'fulfilment' | 'notification' | 'console', string>;
  simulatorUrls: Record<'product' | 'user' | 'payment' | 'fulfilment', string>;
}

const local = (port: number) => `http://127.0.0.1:${port}`;

/**
 * Reads the layout from the services' own configuration loaders, with the same environment the children
 * get: the supervisor cannot disagree with a service about its port or database.
 */
export function loadSystemLayout(env: Record<string, string | undefined>): SystemLayout {
  const order = loadOrderConfig(env);
  const inventory = loadInventoryConfig(env);
  const payment = loadPaymentConfig(env);
  const fulfilment = loadFulfilmentConfig(env);
  const notification = loadNotificationConfig(env);
  const consoleConfig = loadConsoleConfig(env);
  const simulators = loadSimulatorsConfig(env);
  const simulatorUrls = {
    product: local(simulators.ports.product),
    user: local(simulators.ports.user),
    payment: local(simulators.ports.payment),
    fulfilment: local(simulators.ports.fulfilment),
  };
  const urls = {
    order: local(order.http.port),
    inventory: local(inventory.http.port),
    payment: local(payment.http.port),
    fulfilment: local(fulfilment.http.port),
    notification: local(notification.http.port),
    console: local(consoleConfig.http.port),
  };
  const service = (name: keyof typeof urls): ChildSpec => ({
    name,
    entry: `services/${name}/dist/src/main.js`,
    readinessUrls: [`${urls[name]}/health/ready`],
    niceness: name === 'order' ? 0 : BEHIND_THE_API_NICENESS,
  });
  return {
    // Third parties first, the order service (which takes requests) last.
    children: [
      {
        name: 'simulators',
        entry: 'simulators/dist/src/main.js',
        readinessUrls: Object.values(simulatorUrls).map((url) => `${url}/health`),
        niceness: BEHIND_THE_API_NICENESS,
      },
      service('notification'),
      service('fulfilment'),
      service('payment'),
      service('inventory'),
      service('order'),
      // The operator console reads the others: started last.
      service('console'),
    ],
    databaseUrls: [order, inventory, payment, fulfilment, notification].map((config) => config.databaseUrl),
    rabbitmq: order.rabbitmq,
    urls,
    simulatorUrls,
  };
}
