-- Changes no person made: a scheduled job, or the lab putting the story's rows back before
-- a lesson replays them. Recorded under a user's id they would be false evidence (the lab's
-- reset read as "alice took bob's admin rights away"); recorded with no actor at all they
-- would read as someone in psql. So such a change declares a system actor instead of a
-- user, per transaction like the user:
--
--   select set_config('pglab.system_actor', 'pglab (reset)', true);
--
-- and its event keeps that name in `system_actor`, with `actor_id` null. A transaction
-- declares one or the other, never both.

alter table audit.events add column system_actor text;
alter table audit.events add constraint events_one_actor
    check (actor_id is null or system_actor is null);

-- 0003's capture, plus the system actor: read, checked, stored.
create or replace function audit.capture() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    old_row jsonb;
    new_row jsonb;
    changed text[] := '{}';
    secret  text;
    row_any jsonb;
    actor   text := nullif(current_setting('pglab.actor_id', true), '');
    system  text := nullif(current_setting('pglab.system_actor', true), '');
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
    if system is not null then
        if actor is not null then
            raise exception 'a change has one actor: pglab.actor_id is "%" and pglab.system_actor is "%"',
                actor, system
                using errcode = 'invalid_parameter_value',
                      hint = 'declare a user for a person''s request, a system actor for a job';
        end if;
        if length(system) > 64 or system ~ '[[:cntrl:]]' then
            raise exception 'pglab.system_actor must be a short name on one line (at most 64 characters)'
                using errcode = 'invalid_parameter_value';
        end if;
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
                              system_actor, client_addr, old_values, new_values,
                              changed_fields)
    values (tg_table_name,
            case when jsonb_typeof(row_any -> 'id') = 'number'
                 then (row_any ->> 'id')::numeric::bigint end,
            lower(tg_op),
            case when jsonb_typeof(row_any -> 'organization_id') = 'number'
                 then (row_any ->> 'organization_id')::numeric::bigint end,
            actor::bigint,
            system,
            coalesce(addr::inet, inet_client_addr()),
            old_row, new_row, changed)
    returning id into event;

    -- delivered when the transaction commits, never for one rolled back
    perform pg_notify('pglab_audit', event::text);
    return null;
end
$$;
