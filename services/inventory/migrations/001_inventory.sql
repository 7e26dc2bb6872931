-- Stock per product. The three counters move together in one statement, and the checks make overselling
-- impossible even if a code path forgot to look: available + reserved + sold only changes by restocking.
CREATE TABLE stock (
  product_code text PRIMARY KEY,
  available integer NOT NULL CHECK (available >= 0),
  reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- No stock here: a production database starts empty. SPEC §6's initial stock is a seed step
-- (INVENTORY_SEED_STOCK, which npm start turns on; src/stock/seed-stock.ts). Databases created before
-- that change kept the rows this migration used to insert.

-- What inventory decided for each order, one row per order. A row written by a cancellation that arrived
-- first ('cancelled') makes a later order.created a no-op: the cancellation wins.
CREATE TABLE reservations (
  order_id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('reserved', 'rejected', 'released', 'sold', 'cancelled')),
  items jsonb NOT NULL,                 -- [{product_code, quantity}], quantities summed per product
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
