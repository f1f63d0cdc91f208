-- Least-privilege roles for siaga112 on PostgreSQL (run as a superuser, in the
-- center's database, once and again after every `siaga112 db upgrade`):
--
--   psql -d siaga112 -f deploy/postgresql-roles.sql
--   psql -d siaga112 -c "\password siaga_app"
--
-- siaga_owner  owns the schema: `siaga112 db upgrade` (migrations) connects as it.
-- siaga_app    the program's login at every workstation: reads, files and updates
--              reports, and may only INSERT into the history (report_event) and the
--              audit log (audit_entry). It owns nothing, so it cannot drop or disable
--              a trigger (ALTER TABLE ... DISABLE TRIGGER needs the owner), and it is
--              no superuser, so it cannot SET session_replication_role = replica
--              (which would skip every trigger). It cannot DELETE or TRUNCATE at all.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'siaga_owner') THEN
        CREATE ROLE siaga_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'siaga_app') THEN
        CREATE ROLE siaga_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO siaga_owner, siaga_app', current_database());
END
$$;

-- The schema and everything in it belong to the owner, not to the program's login.
ALTER SCHEMA public OWNER TO siaga_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO siaga_app;

DO $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER TABLE public.%I OWNER TO siaga_owner', item.tablename);
    END LOOP;
    FOR item IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER SEQUENCE public.%I OWNER TO siaga_owner', item.sequencename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO siaga_owner', item.signature);
    END LOOP;
END
$$;

-- What the program does: read, file, update. Nothing it does deletes a row.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM siaga_app;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO siaga_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO siaga_app;
-- History and the audit log: append only, here as well as in their triggers.
REVOKE UPDATE ON report_event, audit_entry FROM siaga_app;
-- Tables later migrations create get the same rights (run this file again after
-- an upgrade so a new append-only table loses UPDATE too).
ALTER DEFAULT PRIVILEGES FOR ROLE siaga_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE ON TABLES TO siaga_app;
ALTER DEFAULT PRIVILEGES FOR ROLE siaga_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO siaga_app;
