import { Identifier } from '@platform/contracts';
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { PlaceOrderCommand } from './order.js';

// Limits are generous for real orders and small enough that no request can cost much to store or price.
const UserId = Identifier('The customer, as the user service knows them');
const ProductCode = Identifier('A product code of the product service');
const Quantity = Type.Integer({ minimum: 1, maximum: 1000 });
const MAX_ITEMS = 50;

const CanonicalBody = Type.Object(
  {
    user_id: UserId,
    items: Type.Array(
      Type.Object({ product_code: ProductCode, quantity: Quantity }, { additionalProperties: false }),
      {
        minItems: 1,
        maxItems: MAX_ITEMS,
      },
    ),
  },
  { additionalProperties: false, title: 'Canonical order' },
);

const ShorthandBody = Type.Object(
  { user_id: UserId, product_code: ProductCode },
  { additionalProperties: false, title: 'Seed 000 shorthand (one item, quantity 1)' },
);

const Seed002Body = Type.Object(
  {
    customer_id: UserId,
    items: Type.Array(
      Type.Object({ product_id: ProductCode, quantity: Quantity }, { additionalProperties: false }),
      {
        minItems: 1,
        maxItems: MAX_ITEMS,
      },
    ),
    total_amount: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1_000_000_000, description: 'Checked against the computed total' }),
    ),
  },
  { additionalProperties: false, title: 'Seed 002 order' },
);

/** The three accepted bodies of `POST /orders` (SPEC §5), for the OpenAPI document. */
export const PlaceOrderBody = Type.Union([CanonicalBody, ShorthandBody, Seed002Body]);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

/** A validation problem, located by JSON pointer into the body. */
export interface BodyProblem {
  instancePath: string;
  message: string;
}

const canonical = Compile(CanonicalBody);
const shorthand = Compile(ShorthandBody);
const seed002 = Compile(Seed002Body);

/**
 * Validates a body against the one shape it claims to be (its keys tell which), so that errors speak of
 * that shape instead of listing why it matches none of the three.
 */
export function validatePlaceOrderBody(body: unknown): BodyProblem[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ instancePath: '', message: 'body must be a JSON object' }];
  }
  const validator = 'customer_id' in body ? seed002 : 'product_code' in body ? shorthand : canonical;
  if (!validator.Check(body)) {
    return validator
      .Errors(body)
      .filter((error) => error.keyword !== 'additionalProperties')
      .map((error) => ({
        instancePath: error.instancePath,
        // TypeBox reports an unknown property as the `false` schema it met at that path.
        message: error.schemaPath.endsWith('/additionalProperties') ? 'is not a known field' : error.message,
      }));
  }
  const command = toPlaceOrderCommand(body);
  const problems: BodyProblem[] = [];
  const seen = new Set<string>();
  command.items.forEach((item, index) => {
    if (seen.has(item.productCode)) {
      problems.push({
        instancePath: `/items/${index}`,
        message: `product ${item.productCode} appears more than once`,
      });
    }
    seen.add(item.productCode);
  });
  if (command.requestedTotal !== null && !hasAtMostTwoDecimals(command.requestedTotal)) {
    problems.push({ instancePath: '/total_amount', message: 'must have at most two decimals' });
  }
  return problems;
}

function hasAtMostTwoDecimals(value: number): boolean {
  return Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;
}

/** Normalises a valid body of any shape into the one command the use case understands. */
export function toPlaceOrderCommand(body: PlaceOrderBody): PlaceOrderCommand {
  if ('customer_id' in body) {
    return {
      userId: body.customer_id,
      items: body.items.map((item) => ({ productCode: item.product_id, quantity: item.quantity })),
      requestedTotal: body.total_amount ?? null,
    };
  }
  if ('product_code' in body) {
    return {
      userId: body.user_id,
      items: [{ productCode: body.product_code, quantity: 1 }],
      requestedTotal: null,
    };
  }
  return {
    userId: body.user_id,
    items: body.items.map((item) => ({ productCode: item.product_code, quantity: item.quantity })),
    requestedTotal: null,
  };
}

type ValidationResult = { value: unknown } | { error: Error };

const invalid = (problems: BodyProblem[]): ValidationResult => ({
  error: Object.assign(new Error('Invalid request'), { validation: problems }),
});

/**
 * The validator compiler of `POST /orders`: the body through validatePlaceOrderBody, every other part
 * (the Idempotency-Key header) against its TypeBox schema.
 */
export function placeOrderValidatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }) {
  if (httpPart === 'body') {
    return (body: unknown): ValidationResult => {
      const problems = validatePlaceOrderBody(body);
      return problems.length === 0 ? { value: body } : invalid(problems);
    };
  }
  const validator = Compile(schema as TSchema);
  return (value: unknown): ValidationResult =>
    validator.Check(value)
      ? { value }
      : invalid(validator.Errors(value).map((e) => ({ instancePath: e.instancePath, message: e.message })));
}
