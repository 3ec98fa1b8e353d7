-- The story every lesson starts from: three tenants on three plans, a handful of people in
-- each, posts by several authors. Fixed timestamps keep it identical on every machine; rows
-- are inserted in order so ids are stable too (alice is user 1, acme is organization 1).
--
-- The story is the past before the lab began: it is loaded with the audit triggers off, so
-- the audit log starts empty and every event in it happened in this lab.
alter table users disable trigger users_audit;
alter table posts disable trigger posts_audit;

insert into organizations (name, slug, plan, created_at) values
    ('Acme Corp',   'acme',    'pro',        '2026-01-05 09:00+00'),
    ('TechCo',      'techco',  'free',       '2026-01-12 14:30+00'),
    ('StartUp Inc', 'startup', 'enterprise', '2026-02-02 08:15+00');

-- password hashes are fake (a real one would never sit in a seed file); they are here so the
-- audit lessons have a secret to keep out of the log.
insert into users (organization_id, username, email, is_admin, password_hash,
                   created_at, updated_at) values
    (1, 'alice',   'alice@acme.test',      true,  '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-alice', '2026-01-05 09:05+00', '2026-01-05 09:05+00'),
    (1, 'bob',     'bob@acme.test',        false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-bob', '2026-01-06 10:00+00', '2026-01-06 10:00+00'),
    (2, 'charlie', 'charlie@techco.test',  true,  '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-charlie', '2026-01-12 14:35+00', '2026-01-12 14:35+00'),
    (3, 'diana',   'diana@startup.test',   true,  '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-diana', '2026-02-02 08:20+00', '2026-02-02 08:20+00'),
    (1, 'erin',    'erin@acme.test',       false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-erin', '2026-01-20 11:45+00', '2026-01-20 11:45+00'),
    (1, 'frank',   'frank@acme.test',      false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-frank', '2026-02-14 16:10+00', '2026-02-14 16:10+00'),
    (2, 'grace',   'grace@techco.test',    false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-grace', '2026-01-15 09:30+00', '2026-01-15 09:30+00'),
    (2, 'heidi',   'heidi@techco.test',    false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-heidi', '2026-03-01 13:00+00', '2026-03-01 13:00+00'),
    (3, 'ivan',    'ivan@startup.test',    false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-ivan', '2026-02-03 10:10+00', '2026-02-03 10:10+00'),
    (3, 'judy',    'judy@startup.test',    false, '$argon2id$v=19$m=19456,t=2,p=1$fake-salt$not-a-real-hash-judy', '2026-02-20 15:40+00', '2026-02-20 15:40+00');

insert into posts (organization_id, author_id, title, body, created_at, updated_at) values
    (1, 1,  'Welcome to the Acme blog',          'Who we are and what we ship.',               '2026-01-05 10:00+00', '2026-01-05 10:00+00'),
    (1, 2,  'Our on-call rotation',              'How we share the pager fairly.',             '2026-01-08 09:00+00', '2026-01-08 09:00+00'),
    (2, 3,  'TechCo is live',                    'Free plan, big plans.',                      '2026-01-13 08:00+00', '2026-01-13 08:00+00'),
    (1, 1,  'Q1 roadmap',                        'Search, exports and a faster dashboard.',    '2026-01-19 12:00+00', '2026-01-19 12:00+00'),
    (1, 5,  'Notes from the design review',      'We picked the boring option, on purpose.',   '2026-01-22 15:20+00', '2026-01-22 15:20+00'),
    (2, 7,  'Moving our CI to bigger runners',   'Builds went from 14 to 6 minutes.',          '2026-01-25 10:10+00', '2026-01-25 10:10+00'),
    (3, 4,  'StartUp signs its first customer',  'Enterprise from day one.',                   '2026-02-04 09:00+00', '2026-02-04 09:00+00'),
    (1, 2,  'Postmortem: the January outage',    'A missing index and a busy Monday.',         '2026-02-05 17:30+00', '2026-02-05 17:30+00'),
    (3, 9,  'Hiring: backend engineer',          'Rust, PostgreSQL, curiosity.',               '2026-02-06 11:00+00', '2026-02-06 11:00+00'),
    (2, 3,  'Why we chose PostgreSQL',           'Transactions, constraints, one less worry.', '2026-02-09 14:00+00', '2026-02-09 14:00+00'),
    (1, 6,  'My first week at Acme',             'Coffee, onboarding, one production deploy.', '2026-02-16 09:45+00', '2026-02-16 09:45+00'),
    (2, 7,  'Flaky tests, a field guide',        'Time, order and shared state.',              '2026-02-18 16:00+00', '2026-02-18 16:00+00'),
    (3, 10, 'Security review checklist',         'Tenancy checks come first.',                 '2026-02-22 10:30+00', '2026-02-22 10:30+00'),
    (3, 4,  'Series A!',                         'Thank you to everyone who believed.',        '2026-03-02 08:00+00', '2026-03-02 08:00+00'),
    (2, 8,  'Hello from the new hire',           'Happy to be here.',                          '2026-03-03 09:00+00', '2026-03-03 09:00+00'),
    (3, 9,  'Scaling our database',              'One tenant column, many tenants.',           '2026-03-05 12:00+00', '2026-03-05 12:00+00'),
    (1, 1,  'Spring release notes',              'Exports are here.',                          '2026-03-10 10:00+00', '2026-03-10 10:00+00');

-- one post was withdrawn the day after it went up: soft-deleted, still in the table.
insert into posts (organization_id, author_id, title, body, created_at, updated_at, deleted_at) values
    (1, 5, 'Draft: pricing ideas', 'Not for publication yet.',
     '2026-02-25 13:15+00', '2026-02-26 09:00+00', '2026-02-26 09:00+00');

alter table users enable trigger users_audit;
alter table posts enable trigger posts_audit;
