-- The version of each organisation's needs: raised by the database itself whenever one of its
-- needs is created, changed or deleted, whatever the code or the tool that does it. It is read
-- with the credential of every request, so that a needs list computed earlier
-- (services::needs::ListCache) is served again only while it is current.
ALTER TABLE organisations ADD COLUMN needs_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER needs_version_inserted AFTER INSERT ON needs BEGIN
    UPDATE organisations SET needs_version = needs_version + 1 WHERE id = NEW.organisation_id;
END;

CREATE TRIGGER needs_version_updated AFTER UPDATE ON needs BEGIN
    UPDATE organisations SET needs_version = needs_version + 1
        WHERE id IN (OLD.organisation_id, NEW.organisation_id);
END;

CREATE TRIGGER needs_version_deleted AFTER DELETE ON needs BEGIN
    UPDATE organisations SET needs_version = needs_version + 1 WHERE id = OLD.organisation_id;
END;
