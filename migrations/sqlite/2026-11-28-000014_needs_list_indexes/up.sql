-- An organisation's needs list, read at every page of the portal and the API:
-- - the page, newest first, straight from an index (no sort of all the organisation's needs);
-- - the totals by status and CPV code from the index alone, in its order (no table lookups, no
--   sort). It starts with (organisation_id, status): it replaces needs_org_status.
CREATE INDEX needs_org_newest ON needs (organisation_id, id);
CREATE INDEX needs_org_totals ON needs (organisation_id, status, cpv_code, quantity_milli, unit_price_cents);
DROP INDEX needs_org_status;
