-- The procurement settings of the groupement, each set with the day it takes effect: the
-- territory whose suppliers are local (departments, space-separated), the shortest period of
-- an adapted procedure, and the procurement thresholds (JSON of
-- `groupement_solver::procedure::Thresholds`, its `effective_from` being this row's). The set
-- in force on a day is the latest that took effect by then; the admin adds sets from
-- /admin/parametres, never rewrites one already in force. Seeded with the thresholds of 2026.
CREATE TABLE procurement_settings (
    effective_from DATE PRIMARY KEY,
    territory TEXT NOT NULL CHECK (territory <> ''),
    adapted_min_days INTEGER NOT NULL CHECK (adapted_min_days BETWEEN 7 AND 365),
    thresholds TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
INSERT INTO procurement_settings (effective_from, territory, adapted_min_days, thresholds, recorded_by, recorded_at)
VALUES
    ('2026-01-01', '21', 15, '{"effective_from":"2026-01-01","no_competition_supplies":40000.0,"no_competition_works":100000.0,"boamp":90000.0,"formal_central":140000.0,"formal_sub_central":216000.0,"formal_works":5404000.0,"small_lot_supplies":80000.0,"small_lot_works":1000000.0,"small_lots_max_share":0.2,"formal_min_days":30,"standstill_days":11}', NULL, '2026-01-01 00:00:00'),
    ('2026-04-01', '21', 15, '{"effective_from":"2026-04-01","no_competition_supplies":60000.0,"no_competition_works":100000.0,"boamp":90000.0,"formal_central":140000.0,"formal_sub_central":216000.0,"formal_works":5404000.0,"small_lot_supplies":80000.0,"small_lot_works":1000000.0,"small_lots_max_share":0.2,"formal_min_days":30,"standstill_days":11}', NULL, '2026-04-01 00:00:00');
