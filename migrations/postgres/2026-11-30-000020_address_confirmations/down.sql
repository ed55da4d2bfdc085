DROP TABLE address_confirmations;
ALTER TABLE suppliers DROP COLUMN pending_notification_email;
