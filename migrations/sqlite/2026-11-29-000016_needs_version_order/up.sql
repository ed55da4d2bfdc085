-- Twin of PostgreSQL's migration, which orders the raises of the organisations' needs versions
-- so that two transactions never wait for each other. SQLite takes one writer at a time
-- (`BEGIN IMMEDIATE`): its triggers (migration 15) cannot deadlock, nothing to change.
SELECT 1;
