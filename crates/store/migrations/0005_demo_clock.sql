-- A demonstration city's clock: the city time it starts from and the wall-clock time it was
-- first opened, so every later process (a CLI step, a restarted server) runs on from there.
CREATE TABLE demo_clock (
    id INTEGER PRIMARY KEY,
    city_start TEXT NOT NULL,
    wall_start TEXT NOT NULL
);
