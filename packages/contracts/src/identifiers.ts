import { Type } from 'typebox';

/**
 * The one rule for an identifier the system accepts from outside (a user id, a product code, an order id
 * as other services key it): 1–64 characters of `A-Z a-z 0-9 . _ : -`. Anything else (a NUL byte
 * PostgreSQL refuses to store, control characters, a megabyte of text) is refused at the edge with a `4xx`
 * naming the field, before it reaches a query.
 */
export const IDENTIFIER_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';

/** A schema for an identifier (see `IDENTIFIER_PATTERN`), with what it identifies. */
export const Identifier = (description: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: IDENTIFIER_PATTERN, description });
