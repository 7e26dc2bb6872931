import type { ListenOptions, RequestLogEntry, RunningSimulator } from './http.js';
import { startFulfilmentPartner } from './fulfilment-partner.server.js';
import { startPaymentGateway } from './payment-gateway.server.js';
import { startProductSimulator } from './product.server.js';
import { fastProfile, seedProfile, type Profile } from './profile.js';
import { startUserSimulator } from './user.server.js';

/** The four third parties of SPEC §6. */
export type SimulatorName = 'product' | 'user' | 'payment' | 'fulfilment';

/** SPEC §6's ports. */
export const DEFAULT_PORTS: Readonly<Record<SimulatorName, number>> = {
  product: 8081,
  user: 8082,
  payment: 8083,
  fulfilment: 8084,
};

/** How to start all four simulators; everything is optional. */
export interface SimulatorsOptions {
  /** A profile, or the name of a built-in one; `seed` by default. */
  profile?: Profile | 'seed' | 'fast';
  /** Ports by simulator, SPEC §6's by default; 0 picks a free port (tests). */
  ports?: Partial<Record<SimulatorName, number>>;
  /** 127.0.0.1 by default. */
  host?: string;
  /** Source of chance for the payment gateway and the fulfilment partner; Math.random by default. */
  random?: () => number;
  /** Called once per request, when it is answered or abandoned. */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** The four running simulators. */
export interface RunningSimulators {
  /** Base URLs without a trailing slash. */
  urls: Record<SimulatorName, string>;
  /** Stops all four, dropping pending requests and their delays. */
  close(): Promise<void>;
}

/** Starts the product, user, payment gateway and fulfilment partner simulators, each on its own port. */
export async function startSimulators(options: SimulatorsOptions = {}): Promise<RunningSimulators> {
  const profile = resolveProfile(options.profile);
  const listen = (name: SimulatorName): ListenOptions => ({
    host: options.host ?? '127.0.0.1',
    port: options.ports?.[name] ?? DEFAULT_PORTS[name],
    onRequest: options.onRequest,
  });
  const random = options.random ?? Math.random;

  // One after the other, so a port already in use closes the ones already started before failing.
  const running: RunningSimulator[] = [];
  const closeAll = async () => {
    await Promise.all(running.map((simulator) => simulator.close()));
  };
  const track = async (starting: Promise<RunningSimulator>) => {
    const simulator = await starting;
    running.push(simulator);
    return simulator.url;
  };
  try {
    const urls = {
      product: await track(startProductSimulator({ ...listen('product'), products: profile.products })),
      user: await track(startUserSimulator({ ...listen('user'), users: profile.users })),
      payment: await track(startPaymentGateway({ ...listen('payment'), behaviour: profile.payment, random })),
      fulfilment: await track(
        startFulfilmentPartner({ ...listen('fulfilment'), behaviour: profile.fulfilment, random }),
      ),
    };
    return { urls, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function resolveProfile(profile: SimulatorsOptions['profile']): Profile {
  if (profile === 'fast') return fastProfile;
  if (profile === undefined || profile === 'seed') return seedProfile;
  return profile;
}
