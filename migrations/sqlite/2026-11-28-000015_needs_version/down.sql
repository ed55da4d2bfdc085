DROP TRIGGER needs_version_deleted;
DROP TRIGGER needs_version_updated;
DROP TRIGGER needs_version_inserted;
ALTER TABLE organisations DROP COLUMN needs_version;
