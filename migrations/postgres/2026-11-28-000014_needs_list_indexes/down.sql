CREATE INDEX needs_org_status ON needs (organisation_id, status);
DROP INDEX needs_org_totals;
DROP INDEX needs_org_newest;
