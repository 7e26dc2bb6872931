-- Events waiting to be published, written in the same transaction as the change they announce.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,                               -- the event id, also the AMQP message id
  position bigint GENERATED ALWAYS AS IDENTITY,      -- publication order
  routing_key text NOT NULL,
  correlation_id text NOT NULL,
  message json NOT NULL,                             -- json, not jsonb: published byte for byte as written
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

-- The relay only ever scans what is unpublished; this index stays as small as the backlog.
CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- One notification per inserting statement, delivered at commit: relays wake without polling.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
