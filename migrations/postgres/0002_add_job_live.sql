-- The latest progress detail of a running job (ETA, per-rendition percent), as JSON text.
ALTER TABLE jobs ADD COLUMN live TEXT;
