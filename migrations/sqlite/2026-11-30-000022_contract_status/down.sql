DROP TRIGGER contracts_status_update;
DROP TRIGGER contracts_status_insert;
