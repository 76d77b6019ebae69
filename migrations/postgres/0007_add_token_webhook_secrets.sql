-- Each token's own secret for signing its jobs' own webhook URLs: as sqlite/0007.
ALTER TABLE tokens ADD COLUMN webhook_secret TEXT;
