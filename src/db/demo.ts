/**
 * The demo dataset of the embedded default, shaped like a Heroku Connect database: schema `salesforce`
 * with account, contact and opportunity (Heroku Connect's bookkeeping columns included), a view in
 * `public` summarising accounts, and one table (`public.internal_notes`) that the demo config does not
 * expose. Rows are generated deterministically in SQL, so every fresh start has the same data.
 */
import type { Queryable } from './pool.js';

export const DEMO_SQL = `
create schema if not exists salesforce;

create table salesforce.account (
  id serial primary key,
  sfid varchar(18) unique,
  name varchar(255) not null,
  accountnumber varchar(40),
  type varchar(40),
  industry varchar(40),
  billingcity varchar(40),
  billingstate varchar(80),
  billingcountry varchar(80),
  phone varchar(40),
  website varchar(255),
  annualrevenue numeric(18,2),
  numberofemployees integer,
  rating varchar(40),
  description text,
  lastactivitydate date,
  isdeleted boolean not null default false,
  createddate timestamptz default now(),
  systemmodstamp timestamptz default now(),
  _hc_lastop varchar(32),
  _hc_err text
);
comment on table salesforce.account is 'Salesforce accounts synchronised by Heroku Connect';
comment on column salesforce.account.sfid is 'Salesforce record id (18 characters)';
comment on column salesforce.account.annualrevenue is 'Annual revenue in USD';

create table salesforce.contact (
  id serial primary key,
  sfid varchar(18) unique,
  accountid varchar(18) references salesforce.account(sfid),
  firstname varchar(40),
  lastname varchar(80) not null,
  email varchar(80),
  phone varchar(40),
  title varchar(128),
  birthdate date,
  hasoptedoutofemail boolean default false,
  description text,
  isdeleted boolean not null default false,
  createddate timestamptz default now(),
  systemmodstamp timestamptz default now(),
  _hc_lastop varchar(32),
  _hc_err text
);

create table salesforce.opportunity (
  id serial primary key,
  sfid varchar(18) unique,
  accountid varchar(18) references salesforce.account(sfid),
  name varchar(120) not null,
  stagename varchar(40),
  amount numeric(18,2),
  probability double precision,
  closedate date,
  isclosed boolean default false,
  iswon boolean default false,
  forecastcategory varchar(40),
  description text,
  isdeleted boolean not null default false,
  createddate timestamptz default now(),
  systemmodstamp timestamptz default now(),
  _hc_lastop varchar(32),
  _hc_err text
);

-- Heroku Connect maintains systemmodstamp; the demo does it with a trigger so that ETags change on writes.
create or replace function salesforce.touch_systemmodstamp() returns trigger language plpgsql as $$
begin new.systemmodstamp := clock_timestamp(); return new; end $$;
create trigger account_touch before update on salesforce.account for each row execute function salesforce.touch_systemmodstamp();
create trigger contact_touch before update on salesforce.contact for each row execute function salesforce.touch_systemmodstamp();
create trigger opportunity_touch before update on salesforce.opportunity for each row execute function salesforce.touch_systemmodstamp();

insert into salesforce.account (sfid, name, accountnumber, type, industry, billingcity, billingstate, billingcountry,
  phone, website, annualrevenue, numberofemployees, rating, description, lastactivitydate, isdeleted,
  createddate, systemmodstamp, _hc_lastop)
select '001' || lpad(i::text, 15, '0'),
       'Account ' || i,
       'AN-' || lpad((i * 7919 % 100000)::text, 5, '0'),
       (array['Customer - Direct','Customer - Channel','Partner','Prospect','Other'])[1 + i % 5],
       case when i % 11 = 0 then null else (array['Technology','Finance','Healthcare','Retail','Energy','Education','Media','Transport'])[1 + i % 8] end,
       case when i % 13 = 0 then null else 'City ' || (i % 50) end,
       (array['CA','NY','TX','WA','IL','MA'])[1 + i % 6],
       case when i % 4 = 0 then 'Canada' else 'United States' end,
       '+1-555-' || lpad((i % 10000)::text, 4, '0'),
       'https://www.account' || i || '.example.com',
       case when i % 7 = 0 then null else round((i * 9973 % 5000000)::numeric * 100.25, 2) end,
       case when i % 9 = 0 then null else 5 + (i * 31 % 20000) end,
       (array['Hot','Warm','Cold'])[1 + i % 3],
       case when i % 3 = 0 then null else 'Account ' || i || ' works with O''Brien & Co. on project #' || (i % 97) end,
       date '2024-01-01' + (i % 600),
       i % 50 = 0,
       timestamptz '2023-01-01 00:00:00+00' + make_interval(hours => i * 7, secs => (i % 60) + (i % 1000) / 1000.0),
       timestamptz '2024-06-01 00:00:00+00' + make_interval(mins => i * 13),
       'SYNCED'
  from generate_series(1, 1500) as g(i);

insert into salesforce.contact (sfid, accountid, firstname, lastname, email, phone, title, birthdate,
  hasoptedoutofemail, description, isdeleted, createddate, systemmodstamp, _hc_lastop)
select '003' || lpad(i::text, 15, '0'),
       '001' || lpad((1 + i % 1500)::text, 15, '0'),
       case when i % 17 = 0 then null else (array['Ada','Grace','Alan','Linus','Barbara','Ken','Dennis','Margaret','Edsger','Frances'])[1 + i % 10] end,
       (array['Lovelace','Hopper','Turing','Torvalds','Liskov','Thompson','Ritchie','Hamilton','Dijkstra','Allen'])[1 + (i / 10) % 10] || ' ' || i,
       case when i % 5 = 0 then null else 'contact' || i || '@example.com' end,
       '+1-555-' || lpad((i * 3 % 10000)::text, 4, '0'),
       (array['CEO','CTO','VP Sales','Engineer','Analyst', null])[1 + i % 6],
       case when i % 8 = 0 then null else date '1960-01-01' + (i * 37 % 15000) end,
       i % 9 = 0,
       case when i % 4 = 0 then null else 'Met at conference ' || (i % 12) end,
       i % 97 = 0,
       timestamptz '2023-02-01 00:00:00+00' + make_interval(hours => i * 3),
       timestamptz '2024-06-01 00:00:00+00' + make_interval(mins => i * 5),
       'SYNCED'
  from generate_series(1, 3000) as g(i);

insert into salesforce.opportunity (sfid, accountid, name, stagename, amount, probability, closedate, isclosed,
  iswon, forecastcategory, description, isdeleted, createddate, systemmodstamp, _hc_lastop)
select '006' || lpad(i::text, 15, '0'),
       '001' || lpad((1 + (i * 7) % 1500)::text, 15, '0'),
       'Opportunity ' || i,
       (array['Prospecting','Qualification','Proposal','Negotiation','Closed Won','Closed Lost'])[1 + i % 6],
       case when i % 10 = 0 then null else round((i * 7907 % 1000000)::numeric / 3, 2) end,
       (array[10, 20, 50, 75, 100, 0])[1 + i % 6]::double precision,
       date '2024-01-15' + (i % 700),
       i % 6 >= 4,
       i % 6 = 4,
       (array['Pipeline','Best Case','Commit','Closed','Omitted'])[1 + i % 5],
       case when i % 2 = 0 then null else 'Deal number ' || i end,
       false,
       timestamptz '2023-03-01 00:00:00+00' + make_interval(hours => i * 5),
       timestamptz '2024-06-01 00:00:00+00' + make_interval(mins => i * 11),
       'SYNCED'
  from generate_series(1, 2000) as g(i);

create view public.account_summary as
select a.id, a.sfid, a.name, a.industry, a.billingcity,
       count(o.id)::integer as opportunity_count,
       coalesce(sum(o.amount), 0)::numeric(18,2) as total_amount,
       max(o.closedate) as last_close_date
  from salesforce.account a
  left join salesforce.opportunity o on o.accountid = a.sfid and not o.isdeleted
 where not a.isdeleted
 group by a.id, a.sfid, a.name, a.industry, a.billingcity;
comment on view public.account_summary is 'Per account: open opportunities and their total amount';

-- Not exposed by the demo config: it must be invisible through the service.
create table public.internal_notes (
  id serial primary key,
  note text not null,
  api_key varchar(64) not null
);
insert into public.internal_notes (note, api_key)
select 'internal note ' || i, 'SECRET-' || md5(i::text) from generate_series(1, 10) as g(i);

analyze;
`;

/** Creates and loads the demo dataset unless it exists. Returns true when it loaded it now. */
export async function ensureDemo(db: Queryable): Promise<boolean> {
  const exists = await db.query<{ t: string | null }>(`select to_regclass('salesforce.account')::text as t`);
  if (exists.rows[0]?.t) return false;
  await db.query(`begin; ${DEMO_SQL} commit;`);
  return true;
}
