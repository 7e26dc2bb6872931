import {
  delay,
  HttpError,
  sendEmpty,
  sendJson,
  startHttpSimulator,
  type ListenOptions,
  type RunningSimulator,
} from './http.js';
import { seedProfile, type ProductBehaviour } from './profile.js';

/** Where the product simulator listens and which catalog it serves (the seed's by default). */
export interface ProductSimulatorOptions extends ListenOptions {
  products?: Record<string, ProductBehaviour>;
}

/** Starts seed 000's product service: `GET /products/{code}` → `{code, name, price}`, with per-product faults. */
export function startProductSimulator(options: ProductSimulatorOptions = {}): Promise<RunningSimulator> {
  // A Map, so a code like `constructor` is unknown rather than found on Object.prototype.
  const products = new Map(Object.entries(options.products ?? seedProfile.products));
  return startHttpSimulator(
    'product',
    [
      {
        method: 'GET',
        path: '/products/:code',
        handle: async ({ res, param: code, signal }) => {
          const product = products.get(code);
          if (!product) throw new HttpError(404, `Product ${code} not found`);
          await delay(product.delayMs, signal);
          if (product.status === 200) sendJson(res, 200, { code, name: product.name, price: product.price });
          else sendEmpty(res, product.status);
        },
      },
    ],
    options,
  );
}
