DROP TRIGGER needs_version ON needs;
DROP FUNCTION needs_version_changed();
DROP FUNCTION needs_version_raise(INTEGER);
ALTER TABLE organisations DROP COLUMN needs_version;
