-- The version of each organisation's needs: raised by the database itself, once per
-- transaction, whenever one of its needs is created, changed or deleted, whatever the code or the
-- tool that does it. It is read with the credential of every request, so that a needs list
-- computed earlier (services::needs::ListCache) is served again only while it is current, by
-- every instance of the portal.
ALTER TABLE organisations ADD COLUMN needs_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION needs_version_raise(organisation INTEGER) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    -- Once per organisation and transaction (a setting local to the transaction, undone with
    -- it or with its savepoint): an import of ten thousand needs updates the row once.
    IF current_setting('groupement.needs_raised_' || organisation, true) IS DISTINCT FROM 'yes' THEN
        UPDATE organisations SET needs_version = needs_version + 1 WHERE id = organisation;
        PERFORM set_config('groupement.needs_raised_' || organisation, 'yes', true);
    END IF;
END $$;

CREATE FUNCTION needs_version_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM needs_version_raise(OLD.organisation_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM needs_version_raise(NEW.organisation_id);
    END IF;
    RETURN NULL;
END $$;

-- Deferred to the commit: the organisation's row stays locked from the raise to the end of the
-- transaction, so writers of one organisation's needs queue there; raised at the commit, they
-- queue for the commit alone rather than for their whole transaction.
CREATE CONSTRAINT TRIGGER needs_version AFTER INSERT OR UPDATE OR DELETE ON needs
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION needs_version_changed();
