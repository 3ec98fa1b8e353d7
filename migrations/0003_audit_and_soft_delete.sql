-- Soft deletes done properly, and an audit log the database writes itself.
--
-- Two logs exist side by side on purpose. `lab.audit_logs` (0001) is the application's
-- log: the app inserts a row when it remembers to. `audit.events` is written by a trigger
-- for every row change, whoever makes it (the app, psql, a migration), and nobody may
-- change or remove what it holds.
--
-- The log lives in its own schema, `audit`, owned by the role that runs migrations, and
-- not in `lab`: the learner owns everything in `lab` and could drop or disable a log there.
-- The learner is given read access to it by provisioning (the role does not exist on every
-- server, so no grant to it is written here).

-- ---------------------------------------------------------------------------------------
-- soft deletes

-- a secret to keep out of the log. The story's values are fake, not real hashes.
alter table users add column password_hash text;

-- an email is unique among live users only: once a user is soft-deleted, a new account may
-- take the address again. The partial index keeps the old name, so plans still read
-- "users_email_key" — but only queries that say `deleted_at is null` can use it.
alter table users drop constraint if exists users_email_key;
create unique index users_email_key on users (email) where deleted_at is null;

-- a no-op update (`set title = title`) must not look like a change: updated_at moves only
-- when some column really changed. The audit trigger relies on this to skip no-op updates.
create or replace function set_updated_at() returns trigger
language plpgsql as $$
begin
    if new is distinct from old then
        new.updated_at := now();
    end if;
    return new;
end
$$;

-- where purged rows go: the same columns, plus when they were archived. No foreign keys and
-- no identity: an archived row keeps the id it had.
create table users_archive (
    id              bigint primary key,
    organization_id bigint not null,
    username        text not null,
    email           text not null,
    is_admin        boolean not null,
    password_hash   text,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    deleted_at      timestamptz not null,
    archived_at     timestamptz not null default now()
);

create table posts_archive (
    id              bigint primary key,
    organization_id bigint not null,
    author_id       bigint not null,
    title           text not null,
    body            text not null,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    deleted_at      timestamptz not null,
    archived_at     timestamptz not null default now()
);

-- purge after retention: rows soft-deleted longer ago than `older_than` move to the
-- archive, all in the caller's transaction. Posts go first (they reference users); a user
-- still referenced by a post that stays (live, or deleted too recently) stays as well, and
-- is reported in `users_kept`.
create function purge_deleted(older_than interval)
returns table (posts_archived bigint, users_archived bigint, users_kept bigint[])
language plpgsql as $$
declare
    cutoff timestamptz := now() - older_than;
begin
    if older_than < interval '0' then
        raise exception 'purge_deleted: the retention period must not be negative, got %',
            older_than using errcode = 'invalid_parameter_value';
    end if;

    with gone as (
        delete from posts p where p.deleted_at < cutoff returning p.*
    )
    insert into posts_archive (id, organization_id, author_id, title, body, created_at,
                               updated_at, deleted_at)
    select g.id, g.organization_id, g.author_id, g.title, g.body, g.created_at,
           g.updated_at, g.deleted_at
      from gone g;
    get diagnostics posts_archived = row_count;

    select coalesce(array_agg(u.id order by u.id), '{}') into users_kept
      from users u
     where u.deleted_at < cutoff
       and exists (select 1 from posts p where p.author_id = u.id);

    with gone as (
        delete from users u
         where u.deleted_at < cutoff
           and not (u.id = any (users_kept))
        returning u.*
    )
    insert into users_archive (id, organization_id, username, email, is_admin,
                               password_hash, created_at, updated_at, deleted_at)
    select g.id, g.organization_id, g.username, g.email, g.is_admin, g.password_hash,
           g.created_at, g.updated_at, g.deleted_at
      from gone g;
    get diagnostics users_archived = row_count;

    return next;
end
$$;

-- ---------------------------------------------------------------------------------------
-- the database's audit log

create schema audit;
-- the marker by which pglab knows this schema is its own (a server named by DATABASE_URL
-- may have an `audit` schema of its own, which pglab must never drop).
comment on schema audit is 'pglab audit log';
revoke all on schema audit from public;

create table audit.events (
    id              bigint generated always as identity primary key,
    occurred_at     timestamptz not null default clock_timestamp(),
    txid            bigint not null default txid_current(),
    table_name      text not null,
    record_id       bigint,
    action          text not null check (action in ('insert', 'update', 'delete')),
    organization_id bigint,
    actor_id        bigint,
    client_addr     inet,
    db_user         text not null default session_user,
    old_values      jsonb,
    new_values      jsonb,
    changed_fields  text[] not null default '{}'
);

-- "the history of this row", "what did this person do", "what happened in the last hour".
create index events_record_idx on audit.events (table_name, record_id, id);
create index events_actor_idx on audit.events (actor_id, id);
create index events_occurred_at_idx on audit.events (occurred_at);

-- columns whose values never enter the log; a change to one is still recorded by name.
create table audit.redacted_columns (
    table_name  text not null,
    column_name text not null,
    primary key (table_name, column_name)
);
insert into audit.redacted_columns (table_name, column_name) values ('users', 'password_hash');

-- one event per changed row. Security definer: the learner's statements may write to the
-- log through this function only. Who acted and from where are the application's to say,
-- per transaction: select set_config('pglab.actor_id', '42', true),
-- set_config('pglab.client_addr', '203.0.113.7', true). Without them (psql, a migration)
-- the actor is null and the address is the database client's own.
create function audit.capture() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    old_row jsonb;
    new_row jsonb;
    changed text[] := '{}';
    secret  text;
    row_any jsonb;
    actor   text := nullif(current_setting('pglab.actor_id', true), '');
    addr    text := nullif(current_setting('pglab.client_addr', true), '');
    event   bigint;
begin
    if tg_op in ('UPDATE', 'DELETE') then
        old_row := to_jsonb(old);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        new_row := to_jsonb(new);
    end if;
    if tg_op = 'UPDATE' then
        -- in column order, compared before any value is redacted
        select coalesce(array_agg(a.attname::text order by a.attnum), '{}') into changed
          from pg_attribute a
         where a.attrelid = tg_relid and a.attnum > 0 and not a.attisdropped
           and old_row -> a.attname::text is distinct from new_row -> a.attname::text;
        if cardinality(changed) = 0 then
            return null;
        end if;
    end if;
    if actor is not null and actor !~ '^-?[0-9]{1,18}$' then
        raise exception 'pglab.actor_id must be a user id (a whole number), got "%"', actor
            using errcode = 'invalid_text_representation',
                  hint = 'set it per transaction: select set_config(''pglab.actor_id'', ''42'', true)';
    end if;

    for secret in
        select r.column_name from audit.redacted_columns r where r.table_name = tg_table_name
    loop
        if old_row ->> secret is not null then
            old_row := jsonb_set(old_row, array[secret], to_jsonb('[redacted]'::text));
        end if;
        if new_row ->> secret is not null then
            new_row := jsonb_set(new_row, array[secret], to_jsonb('[redacted]'::text));
        end if;
    end loop;

    row_any := coalesce(new_row, old_row);
    insert into audit.events (table_name, record_id, action, organization_id, actor_id,
                              client_addr, old_values, new_values, changed_fields)
    values (tg_table_name,
            case when jsonb_typeof(row_any -> 'id') = 'number'
                 then (row_any ->> 'id')::numeric::bigint end,
            lower(tg_op),
            case when jsonb_typeof(row_any -> 'organization_id') = 'number'
                 then (row_any ->> 'organization_id')::numeric::bigint end,
            actor::bigint,
            coalesce(addr::inet, inet_client_addr()),
            old_row, new_row, changed)
    returning id into event;

    -- delivered when the transaction commits, never for one rolled back
    perform pg_notify('pglab_audit', event::text);
    return null;
end
$$;
revoke all on function audit.capture() from public;

create trigger users_audit after insert or update or delete on users
    for each row execute function audit.capture();
create trigger posts_audit after insert or update or delete on posts
    for each row execute function audit.capture();

-- opts another table in (or out). Runs with the caller's rights: only a table's owner may
-- put a trigger on it, and the learner owns the lesson tables.
create function audit.track(target regclass) returns void
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    trigger_name text := (select c.relname from pg_class c where c.oid = target) || '_audit';
begin
    if target = 'audit.events'::regclass then
        raise exception 'the audit log cannot audit itself' using errcode = 'invalid_parameter_value';
    end if;
    if exists (select 1 from pg_trigger t where t.tgrelid = target and t.tgname = trigger_name) then
        return;
    end if;
    execute format('create trigger %I after insert or update or delete on %s '
                   'for each row execute function audit.capture()', trigger_name, target);
end
$$;

create function audit.untrack(target regclass) returns void
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    execute format('drop trigger if exists %I on %s',
                   (select c.relname from pg_class c where c.oid = target) || '_audit', target);
end
$$;
revoke all on function audit.track(regclass) from public;
revoke all on function audit.untrack(regclass) from public;

-- append-only: the learner may only read (provisioning grants select and nothing else),
-- and these triggers refuse even the owner. A superuser can still get around them
-- (session_replication_role, disabling the trigger): real tamper evidence needs an owner
-- nobody uses day to day, or shipping the events elsewhere.
create function audit.refuse_change() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    raise exception 'the audit log is append-only: % on audit.events is refused', tg_op
        using errcode = 'insufficient_privilege',
              hint = 'audit events are evidence; they are added, never changed or removed';
end
$$;

create trigger events_no_update_or_delete before update or delete on audit.events
    for each row execute function audit.refuse_change();
create trigger events_no_truncate before truncate on audit.events
    for each statement execute function audit.refuse_change();
