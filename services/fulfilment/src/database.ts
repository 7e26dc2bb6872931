import type { TraceCarrier } from '@platform/observability';
import type { ColumnType, Generated } from 'kysely';
import type { JsonColumn } from '@platform/postgres';
import type { OrderSnapshot, SagaStepRecord } from '@platform/contracts';
import type { PlacementStatus } from './placements/placement.js';

export interface PlacementsTable {
  order_id: string;
  status: PlacementStatus;
  order_snapshot: JsonColumn<OrderSnapshot>;
  /** The saga's steps before the placement, passed on with its own (see migrations/005_steps.sql). */
  steps: ColumnType<SagaStepRecord[], string | undefined, string>;
  attempts: ColumnType<number, never, number>;
  next_attempt_at: ColumnType<Date, never, Date>;
  deadline_at: ColumnType<Date | null, Date | null | undefined, never>;
  lease_until: ColumnType<Date | null, never, Date | null>;
  placement_id: ColumnType<string | null, never, string | null>;
  last_error: ColumnType<string | null, never, string | null>;
  /** The trace every attempt continues (see migrations/003_trace_context.sql). */
  trace_context: ColumnType<TraceCarrier | null, never, never>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** One call of the worker to the partner (see migrations/004_attempts.sql). */
export interface PlacementAttemptsTable {
  order_id: string;
  position: Generated<string>;
  outcome: string;
  error: string | null;
  placement_id: string | null;
  at: ColumnType<Date, never, never>;
}

/** The fulfilment database, as Kysely sees it (outbox and inbox are written through their packages). */
export interface FulfilmentDatabase {
  placements: PlacementsTable;
  placement_attempts: PlacementAttemptsTable;
}
