-- The organisations whose needs a transaction changed are raised in the order of their ids, all
-- at the first deferred firing at its commit. Raised row by row in the order the needs were
-- changed (migration 15), two transactions changing needs of the same organisations in
-- different orders (two pooling approvals, two awards) could each lock one organisation's row
-- and wait for the other's: a deadlock, one of them aborted.

-- Notes the organisations at once, in a list local to the transaction (`,3,1,`: undone with it
-- or with its savepoint, as the changes themselves).
CREATE FUNCTION needs_version_noted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    noted TEXT := coalesce(nullif(current_setting('groupement.needs_changed', true), ''), ',');
    organisation INTEGER;
BEGIN
    FOREACH organisation IN ARRAY CASE TG_OP
        WHEN 'INSERT' THEN ARRAY[NEW.organisation_id]
        WHEN 'DELETE' THEN ARRAY[OLD.organisation_id]
        ELSE ARRAY[OLD.organisation_id, NEW.organisation_id] END
    LOOP
        IF position(',' || organisation || ',' IN noted) = 0 THEN
            noted := noted || organisation || ',';
            PERFORM set_config('groupement.needs_changed', noted, true);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER needs_version_noted AFTER INSERT OR UPDATE OR DELETE ON needs
    FOR EACH ROW EXECUTE FUNCTION needs_version_noted();

-- At the commit: every noted organisation not raised yet, in the order of their ids. The list is
-- read at the first firing; the others find it raised and return at once.
CREATE OR REPLACE FUNCTION needs_version_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    noted TEXT := coalesce(current_setting('groupement.needs_changed', true), '');
    organisation INTEGER;
BEGIN
    IF noted = coalesce(current_setting('groupement.needs_raised', true), '') THEN
        RETURN NULL;
    END IF;
    IF length(noted) - length(replace(noted, ',', '')) = 2 THEN
        -- One organisation (the common case), without sorting.
        PERFORM needs_version_raise(trim(BOTH ',' FROM noted)::INTEGER);
    ELSE
        FOR organisation IN
            SELECT DISTINCT id::INTEGER FROM unnest(string_to_array(trim(BOTH ',' FROM noted), ','))
                AS id ORDER BY 1
        LOOP
            PERFORM needs_version_raise(organisation);
        END LOOP;
    END IF;
    PERFORM set_config('groupement.needs_raised', noted, true);
    RETURN NULL;
END $$;
