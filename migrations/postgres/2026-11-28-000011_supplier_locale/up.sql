-- The language a supplier's notices, digests and receipts are written in (users already have
-- theirs, users.locale): 'fr' unless the company chose English.
ALTER TABLE suppliers ADD COLUMN locale TEXT NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'en'));
