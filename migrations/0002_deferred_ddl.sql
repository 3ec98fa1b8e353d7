-- Bulk loads (`pglab seed`) drop a table's indexes and constraints, insert, and build them
-- again, which is many times faster than maintaining them row by row. The statements that
-- rebuild them are written here first, in the same transaction as the drops; if a load is
-- interrupted, the next start of pglab finds them and finishes the job.
create table pglab.deferred_ddl (
    id        bigint generated always as identity primary key,
    -- 1: build indexes (may run side by side), 2: attach them as primary key / unique
    -- constraints, 3: add foreign keys (they need the keys of phase 2).
    phase     smallint not null check (phase between 1 and 3),
    statement text not null
);
