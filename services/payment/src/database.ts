import type { TraceCarrier } from '@platform/observability';
import type { ColumnType, Generated } from 'kysely';
import type { JsonColumn } from '@platform/postgres';
import type { OrderSnapshot, SagaStepRecord } from '@platform/contracts';
import type { PaymentStatus } from './payments/payment.js';

/** One row per order: at most one charge per order, whatever arrives twice. */
export interface PaymentsTable {
  order_id: string;
  status: PaymentStatus;
  /** numeric(12,2), read as a number; null only on a cancellation that overtook the charge request. */
  amount: number | null;
  /** The order as the event that created the row carried it, passed along in this service's events. */
  order_snapshot: JsonColumn<OrderSnapshot>;
  /** The saga's steps before the charge, passed on with its own (see migrations/005_steps.sql). */
  steps: ColumnType<SagaStepRecord[], string | undefined, string>;
  cancel_requested: Generated<boolean>;
  attempts: Generated<number>;
  refund_attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, never, Date>;
  lease_until: ColumnType<Date | null, never, Date | null>;
  charge_id: string | null;
  refund_id: string | null;
  last_error: string | null;
  /** The trace the worker's next call continues (see migrations/003_trace_context.sql). */
  trace_context: ColumnType<TraceCarrier | null, never, never>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** One gateway call of the worker (see migrations/004_attempts.sql). */
export interface PaymentAttemptsTable {
  order_id: string;
  position: Generated<string>;
  step: 'charge' | 'refund' | 'settle_cancelled';
  outcome: string;
  error: string | null;
  reference: string | null;
  at: ColumnType<Date, never, never>;
}

/** The payment database, as Kysely sees it (outbox and inbox are written through their packages). */
export interface PaymentDatabase {
  payments: PaymentsTable;
  payment_attempts: PaymentAttemptsTable;
}
