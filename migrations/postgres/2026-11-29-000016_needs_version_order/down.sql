DROP TRIGGER needs_version_noted ON needs;
DROP FUNCTION needs_version_noted();

CREATE OR REPLACE FUNCTION needs_version_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM needs_version_raise(OLD.organisation_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM needs_version_raise(NEW.organisation_id);
    END IF;
    RETURN NULL;
END $$;
