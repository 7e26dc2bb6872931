import { readFile } from 'node:fs/promises';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import {
  asyncApiDocument,
  EVENT_PAYLOADS,
  eventProblems,
  SUBSCRIPTIONS,
  type EventType,
} from '@platform/contracts';
import { sagaEvent } from '@platform/testing';

const document = asyncApiDocument();
/** Severity 0 is an error in Stoplight's `DiagnosticSeverity`; warnings and hints are advice. */
const isError = (severity: number): boolean => severity === 0;
const ORDER = {
  order_id: '6f1c2d9e-0b7a-4c55-9d1e-2a3b4c5d6e7f',
  user_id: 'customer-123',
  customer_fullname: 'Grace Hopper',
  product_name: 'Product A',
  total_amount: 50,
  created_at: new Date().toISOString(),
  items: [{ product_code: 'product-A', product_name: 'Product A', quantity: 1, unit_price: 50 }],
};

describe('the contracts published as AsyncAPI', () => {
  it('is a valid AsyncAPI 3.0 document (the AsyncAPI parser finds no error)', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errors = diagnostics.filter((diagnostic) => isError(diagnostic.severity));
    expect(errors.map((error) => `${error.path.join('.')}: ${error.message}`)).toEqual([]);
    expect(parsed?.channels().length).toBe(Object.keys(EVENT_PAYLOADS).length);
    expect(parsed?.messages().length).toBe(Object.keys(EVENT_PAYLOADS).length);
  });

  it('has a send operation per event type and a receive operation per subscription', () => {
    const operations = Object.keys(document.operations as Record<string, unknown>);
    const receives = Object.entries(SUBSCRIPTIONS).flatMap(([service, types]) =>
      types.map((type) => `${service}.receive.${type}`),
    );
    expect(operations.filter((name) => name.includes('.receive.')).sort()).toEqual(receives.sort());
    expect(operations.filter((name) => name.includes('.send.'))).toHaveLength(
      Object.keys(EVENT_PAYLOADS).length,
    );
  });

  it('is what docs/asyncapi.json holds (run `npm run asyncapi` after changing a contract)', async () => {
    const published = JSON.parse(await readFile('docs/asyncapi.json', 'utf8')) as unknown;
    expect(published).toEqual(document);
  });
});

describe('the event schemas', () => {
  it('accept a valid event of every type', () => {
    for (const type of Object.keys(EVENT_PAYLOADS) as EventType[]) {
      expect(eventProblems(sagaEvent(type, ORDER)), type).toEqual([]);
    }
  });

  it('name what is wrong with an invalid one', () => {
    const valid = sagaEvent('payment.refunded', ORDER);
    expect(eventProblems({ ...valid, id: '' })).toEqual([expect.stringMatching(/^\/id: /)]);
    expect(eventProblems({ ...valid, type: 'payment.lost' })).toEqual([
      '/type: payment.lost is not an event type of the system',
    ]);
    expect(
      eventProblems({ ...valid, payload: { ...valid.payload, refund: { refund_id: 're_1', amount: -1 } } }),
    ).toEqual([expect.stringMatching(/^\/payload\/refund\/amount: /)]);
    expect(
      eventProblems({
        ...valid,
        payload: { ...valid.payload, order: { ...ORDER, items: [{ product_code: 'x', quantity: 0 }] } },
      }).every((problem) => problem.startsWith('/payload/order/items/0')),
    ).toBe(true);
    expect(eventProblems('not an object')).not.toEqual([]);
  });
});
