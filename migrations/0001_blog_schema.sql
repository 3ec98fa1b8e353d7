-- The blog platform every lesson works on: tenants (organizations), their users and posts,
-- and an audit log. Objects land in the `lab` schema (the connection's search_path), which
-- belongs to the learner; pglab's own bookkeeping lives in the `pglab` schema.
--
-- Conventions: lowercase sql, plural table names as in the chapter, `id` identity keys,
-- `<table>_id` foreign keys, timestamptz everywhere, `deleted_at` marks a soft-deleted row.

-- tenants. `slug` is what appears in urls; `plan` is what the tenant pays for.
create table organizations (
    id         bigint generated always as identity primary key,
    name       text not null,
    slug       text not null unique check (slug ~ '^[a-z0-9-]+$'),
    plan       text not null check (plan in ('free', 'pro', 'enterprise')),
    created_at timestamptz not null default now()
);

-- people. every user belongs to exactly one tenant; removing a tenant removes its users.
create table users (
    id              bigint generated always as identity primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    username        text not null,
    email           text not null unique,
    is_admin        boolean not null default false,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    deleted_at      timestamptz
);

-- postgres does not index the referencing side of a foreign key by itself: without this,
-- every tenant-scoped query and every cascade from organizations scans the whole table.
create index users_organization_id_idx on users (organization_id);

-- content. `organization_id` is repeated on posts (not only reachable through the author)
-- so that every tenant query filters one column of one table.
-- deleting an author who still has posts is refused: their posts must be moved or
-- soft-deleted first.
create table posts (
    id              bigint generated always as identity primary key,
    organization_id bigint not null references organizations (id) on delete cascade,
    author_id       bigint not null references users (id) on delete restrict,
    title           text not null,
    body            text not null default '',
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    deleted_at      timestamptz
);

create index posts_organization_id_idx on posts (organization_id);
create index posts_author_id_idx on posts (author_id);
-- the feed: a tenant's newest posts first.
create index posts_organization_id_created_at_idx on posts (organization_id, created_at desc);

-- who did what, to which row, when and from where. deliberately without foreign keys: the
-- log must outlive the users and rows it describes.
create table audit_logs (
    id              bigint generated always as identity primary key,
    organization_id bigint,
    actor_id        bigint,
    action          text not null check (action in ('create', 'update', 'delete', 'restore')),
    table_name      text not null,
    record_id       bigint not null,
    old_values      jsonb,
    new_values      jsonb,
    ip_address      inet,
    created_at      timestamptz not null default now()
);

-- "what happened to this row?" and "what did this person do?", newest first.
create index audit_logs_record_idx on audit_logs (table_name, record_id, created_at desc);
create index audit_logs_actor_id_idx on audit_logs (actor_id, created_at desc);
create index audit_logs_organization_id_idx on audit_logs (organization_id, created_at desc);

-- keep updated_at honest without trusting every caller to set it.
create function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create trigger users_set_updated_at before update on users
    for each row execute function set_updated_at();
create trigger posts_set_updated_at before update on posts
    for each row execute function set_updated_at();
