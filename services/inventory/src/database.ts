import type { ColumnType } from 'kysely';
import type { JsonColumn } from '@platform/postgres';

export interface StockTable {
  product_code: string;
  available: number;
  reserved: number;
  sold: number;
  updated_at: ColumnType<Date, never, Date>;
}

export type ReservationStatus = 'reserved' | 'rejected' | 'released' | 'sold' | 'cancelled';

/** A product and how many of it an order wants. */
export interface ReservedItem {
  product_code: string;
  quantity: number;
}

export interface ReservationsTable {
  order_id: string;
  status: ReservationStatus;
  items: JsonColumn<ReservedItem[]>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** The inventory database, as Kysely sees it (outbox and inbox are written through their packages). */
export interface InventoryDatabase {
  stock: StockTable;
  reservations: ReservationsTable;
}
