import type { ColumnType } from 'kysely';

/** Columns written as JSON text, read back parsed. */
type Json<T> = ColumnType<T, string, string>;

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
  items: Json<ReservedItem[]>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** The inventory database, as Kysely sees it (outbox and inbox are written through their packages). */
export interface InventoryDatabase {
  stock: StockTable;
  reservations: ReservationsTable;
}
