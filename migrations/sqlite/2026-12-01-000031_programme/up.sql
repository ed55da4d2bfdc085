-- The purchase programme (#24): which supplier was told of which planned purchase (once each).
CREATE TABLE programme_alerts (
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    purchase_key TEXT NOT NULL CHECK (length(purchase_key) BETWEEN 1 AND 300),
    told_at TIMESTAMP NOT NULL,
    PRIMARY KEY (supplier_id, purchase_key)
);
