import type { ColumnType } from 'kysely';
import type { JsonColumn } from '@platform/postgres';
import type { ReservationStatus, ReservedItem } from './stock/stock.js';

export interface StockTable {
  product_code: string;
  available: number;
  reserved: number;
  sold: number;
  updated_at: ColumnType<Date, never, Date>;
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
