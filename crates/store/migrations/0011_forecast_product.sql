-- A run keeps the forecast as the model issued it, before recent verification adjusted it: the
-- next runs' recent verification reads these (forecasts actually issued at the time), never ones
-- a retrained model re-creates for days it was fitted on. And it keeps the daily level product
-- (the probability of each AQI level for D+1..D+3, and the level published). NULL for runs
-- stored before this migration.
ALTER TABLE forecast_runs ADD COLUMN model_hourly TEXT;
ALTER TABLE forecast_runs ADD COLUMN levels TEXT;
