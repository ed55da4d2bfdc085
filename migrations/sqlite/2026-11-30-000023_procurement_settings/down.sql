DROP TABLE procurement_settings;
