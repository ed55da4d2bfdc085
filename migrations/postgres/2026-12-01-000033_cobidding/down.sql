ALTER TABLE sourcing_declarations DROP COLUMN answered_at;
ALTER TABLE sourcing_declarations DROP COLUMN answer;
DROP TABLE cobidding_contacts;
DROP TABLE cobidding_posts;
