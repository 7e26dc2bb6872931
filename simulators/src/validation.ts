import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** Every way `value` breaks `schema`, one readable line each, e.g. `/products/x/price: must be number`. */
export function validationProblems(schema: TSchema, value: unknown): string[] {
  return Value.Errors(schema, value).flatMap((error) => {
    const at = error.instancePath || '/';
    switch (error.keyword) {
      // TypeBox reports each unknown property twice: once as a `false` schema, once here; keep this one.
      case 'boolean':
        return [];
      case 'additionalProperties':
        return [`${at}: unknown property ${quoted(error.params.additionalProperties)}`];
      case 'required':
        return [`${at}: missing property ${quoted(error.params.requiredProperties)}`];
      default:
        return [`${at}: ${error.message}`];
    }
  });
}

const quoted = (names: string[]) => names.map((name) => JSON.stringify(name)).join(', ');
