-- A need's title the member chooses to publish on the purchase programme (#24): by default a
-- need's title stays internal.
ALTER TABLE needs ADD COLUMN title_public BOOLEAN NOT NULL DEFAULT FALSE;
