-- The latest progress detail of a running job (ETA, per-rendition percent), as JSON.
-- Written with each progress report; cleared when the job leaves 'active'.
ALTER TABLE jobs ADD COLUMN live TEXT;
