DROP TABLE programme_alerts;
