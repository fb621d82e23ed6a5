-- Version 1: the programme's tables, keyed by the bench, the label revision counter and
-- the least-privilege roles with the row level security that keeps each bench to its
-- own rows. Roles are cluster-wide, so they are made only when missing (two databases
-- of one cluster, or two admins migrating at once, may race to make them).

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['phytoscreen_bench', 'phytoscreen_reader', 'phytoscreen_reviewer'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
			BEGIN
				EXECUTE format('CREATE ROLE %I NOLOGIN', r);
			EXCEPTION WHEN duplicate_object OR unique_violation THEN
				NULL; -- made meanwhile by another migration
			END;
		END IF;
	END LOOP;
END
$$;
-- +goose StatementEnd

CREATE TABLE benches (
	bench_id text PRIMARY KEY CHECK (bench_id <> ''),
	name text NOT NULL DEFAULT '',
	-- the login role that pushes for this bench: row level security lets a role write
	-- only the rows of the bench registered to it
	role_name text UNIQUE NOT NULL DEFAULT current_user,
	first_seen timestamptz NOT NULL DEFAULT now(),
	last_push timestamptz
);

CREATE TABLE samples (
	bench_id text NOT NULL REFERENCES benches ON DELETE CASCADE,
	sample_id text NOT NULL,
	site text NOT NULL DEFAULT '',
	taken timestamptz NOT NULL,
	notes text NOT NULL DEFAULT '',
	factor double precision NOT NULL DEFAULT 1,
	lat double precision,
	lon double precision,
	depth_m double precision,
	analyst text NOT NULL DEFAULT '',
	created timestamptz NOT NULL,
	marked boolean NOT NULL DEFAULT false,
	deleted_at timestamptz,
	gone boolean NOT NULL DEFAULT false,
	volume_ml double precision NOT NULL DEFAULT 0,
	objects integer NOT NULL DEFAULT 0,
	failed integer NOT NULL DEFAULT 0,
	pushed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (bench_id, sample_id)
);
CREATE INDEX samples_site_taken ON samples (site, taken);
CREATE INDEX samples_taken ON samples (taken);

CREATE TABLE runs (
	bench_id text NOT NULL,
	run_id bigint NOT NULL,
	sample_id text NOT NULL,
	spec text NOT NULL DEFAULT '',
	pack text NOT NULL DEFAULT '',
	model text NOT NULL DEFAULT '',
	threshold double precision NOT NULL DEFAULT 0,
	volume_ml double precision NOT NULL DEFAULT 0,
	volume_examined_ml double precision,
	rules text NOT NULL DEFAULT '',
	started timestamptz NOT NULL,
	ended timestamptz,
	frames_seen integer NOT NULL DEFAULT 0,
	frames_dropped integer NOT NULL DEFAULT 0,
	frames_failed integer NOT NULL DEFAULT 0,
	frames_expected integer NOT NULL DEFAULT 0,
	files_skipped integer NOT NULL DEFAULT 0,
	interrupted boolean NOT NULL DEFAULT false,
	status text NOT NULL DEFAULT '',
	error text NOT NULL DEFAULT '',
	PRIMARY KEY (bench_id, run_id),
	FOREIGN KEY (bench_id, sample_id) REFERENCES samples ON DELETE CASCADE
);
CREATE INDEX runs_sample ON runs (bench_id, sample_id);

CREATE SEQUENCE label_rev_seq;

CREATE TABLE objects (
	bench_id text NOT NULL,
	object_id bigint NOT NULL,
	run_id bigint NOT NULL,
	seq integer NOT NULL,
	time timestamptz NOT NULL,
	frame integer NOT NULL DEFAULT 0,
	track integer NOT NULL DEFAULT 0,
	x integer NOT NULL DEFAULT 0,
	y integer NOT NULL DEFAULT 0,
	w integer NOT NULL DEFAULT 0,
	h integer NOT NULL DEFAULT 0,
	area double precision,
	perimeter double precision,
	esd double precision,
	major double precision,
	minor double precision,
	aspect double precision,
	solidity double precision,
	mean_gray double precision,
	focus double precision,
	um_per_px double precision,
	contrast double precision,
	centroid_x double precision,
	centroid_y double precision,
	area_um2 double precision,
	esd_um double precision,
	major_um double precision,
	minor_um double precision,
	perimeter_um double precision,
	on_border boolean NOT NULL DEFAULT false,
	kind text NOT NULL DEFAULT '',
	length double precision,
	width double precision,
	parts integer,
	cells_estimate double precision,
	oversize boolean NOT NULL DEFAULT false,
	file text NOT NULL DEFAULT '',
	crop bytea,
	label text NOT NULL DEFAULT '',
	prob double precision NOT NULL DEFAULT 0,
	top text NOT NULL DEFAULT '',
	variant text NOT NULL DEFAULT '',
	error text NOT NULL DEFAULT '',
	-- a person's label: who and when; between bench and server the later one wins.
	-- validated_label NULL with validated_at set is a validation cleared at that time.
	validated_label text,
	validated_by text,
	validated_at timestamptz,
	-- the revision of the last change of the three columns above (a trigger sets it):
	-- a bench pulls the changes after the last revision it saw
	label_rev bigint,
	PRIMARY KEY (bench_id, object_id),
	-- deferred: a run pushed again after its bench reused IDs may swap seqs between rows
	UNIQUE (bench_id, run_id, seq) DEFERRABLE INITIALLY DEFERRED,
	FOREIGN KEY (bench_id, run_id) REFERENCES runs ON DELETE CASCADE
);
CREATE INDEX objects_label_rev ON objects (bench_id, label_rev) WHERE label_rev IS NOT NULL;
CREATE INDEX objects_validated ON objects (validated_label) WHERE validated_label IS NOT NULL;

-- PNG crops are compressed already: storing them out of line without trying to compress
-- them again saves the server's time on every push.
ALTER TABLE objects ALTER COLUMN crop SET STORAGE EXTERNAL;

-- +goose StatementBegin
CREATE FUNCTION objects_label_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- Revisions must become visible in their order, or a bench that pulled up to
	-- revision 12 would never see revision 11 committed just after: transactions that
	-- set a revision take this lock and keep it until they end.
	PERFORM pg_advisory_xact_lock(7160245366891423016);
	NEW.label_rev := nextval('label_rev_seq');
	-- Last writer wins on validated_at, which a bench's or a reviewer's clock sets: one
	-- running ahead would win against every later relabel until the real time caught
	-- up. The server never holds a validation later than its own clock.
	IF NEW.validated_at > now() THEN
		NEW.validated_at := now();
	END IF;
	RETURN NEW;
END
$$;
-- +goose StatementEnd
-- The WHEN clauses keep the trigger off the rows whose validation does not change (most
-- objects of a pushed run), so a push costs no function call per object.
CREATE TRIGGER objects_label_rev_insert BEFORE INSERT ON objects FOR EACH ROW
	WHEN (NEW.validated_label IS NOT NULL OR NEW.validated_at IS NOT NULL)
	EXECUTE FUNCTION objects_label_rev();
CREATE TRIGGER objects_label_rev_update BEFORE UPDATE ON objects FOR EACH ROW
	WHEN ((NEW.validated_label, NEW.validated_by, NEW.validated_at)
		IS DISTINCT FROM (OLD.validated_label, OLD.validated_by, OLD.validated_at))
	EXECUTE FUNCTION objects_label_rev();

CREATE TABLE alerts (
	bench_id text NOT NULL,
	alert_id bigint NOT NULL,
	run_id bigint NOT NULL,
	time timestamptz NOT NULL,
	rule text NOT NULL DEFAULT '',
	taxon text NOT NULL DEFAULT '',
	from_level text NOT NULL DEFAULT '',
	to_level text NOT NULL DEFAULT '',
	count integer NOT NULL DEFAULT 0,
	cells_per_l double precision NOT NULL DEFAULT 0,
	ci_low double precision NOT NULL DEFAULT 0,
	ci_high double precision NOT NULL DEFAULT 0,
	threshold text NOT NULL DEFAULT '',
	threshold_per_l double precision NOT NULL DEFAULT 0,
	threshold_source text NOT NULL DEFAULT '',
	verified boolean NOT NULL DEFAULT false,
	note text NOT NULL DEFAULT '',
	PRIMARY KEY (bench_id, alert_id),
	FOREIGN KEY (bench_id, run_id) REFERENCES runs ON DELETE CASCADE
);
CREATE INDEX alerts_run ON alerts (bench_id, run_id);

CREATE TABLE perf (
	bench_id text NOT NULL,
	perf_id bigint NOT NULL,
	run_id bigint NOT NULL,
	time timestamptz NOT NULL,
	variant text NOT NULL DEFAULT '',
	cells integer NOT NULL DEFAULT 0,
	duration_ms double precision NOT NULL DEFAULT 0,
	failed boolean NOT NULL DEFAULT false,
	watts double precision,
	joules double precision,
	energy_source text NOT NULL DEFAULT '',
	estimated boolean NOT NULL DEFAULT false,
	PRIMARY KEY (bench_id, perf_id),
	FOREIGN KEY (bench_id, run_id) REFERENCES runs ON DELETE CASCADE
);
CREATE INDEX perf_run ON perf (bench_id, run_id);

CREATE TABLE taxa (
	bench_id text NOT NULL REFERENCES benches ON DELETE CASCADE,
	pack text NOT NULL,
	label text NOT NULL,
	idx integer NOT NULL DEFAULT 0,
	name text NOT NULL DEFAULT '',
	grp text NOT NULL DEFAULT '',
	grp_name text NOT NULL DEFAULT '',
	unit text NOT NULL DEFAULT '',
	PRIMARY KEY (bench_id, pack, label)
);

CREATE TABLE sample_counts (
	bench_id text NOT NULL,
	sample_id text NOT NULL,
	label text NOT NULL,
	kind text NOT NULL,
	pos integer NOT NULL DEFAULT 0, -- the bench's order of its tally
	name text NOT NULL DEFAULT '',
	grp text NOT NULL DEFAULT '',
	grp_name text NOT NULL DEFAULT '',
	unit text NOT NULL DEFAULT '',
	count integer NOT NULL DEFAULT 0,
	validated integer NOT NULL DEFAULT 0,
	per_l double precision NOT NULL DEFAULT 0,
	ci_low double precision NOT NULL DEFAULT 0,
	ci_high double precision NOT NULL DEFAULT 0,
	PRIMARY KEY (bench_id, sample_id, kind, label),
	FOREIGN KEY (bench_id, sample_id) REFERENCES samples ON DELETE CASCADE
);
CREATE INDEX sample_counts_label ON sample_counts (label, kind);

-- Privileges. Everyone of the programme may read everything; writing is the benches'
-- (their own rows, by the policies below) and the reviewers' (labels only).
GRANT SELECT ON benches, samples, runs, objects, alerts, perf, taxa, sample_counts, goose_db_version
	TO phytoscreen_bench, phytoscreen_reader, phytoscreen_reviewer;
GRANT INSERT, UPDATE ON benches TO phytoscreen_bench;
GRANT INSERT, UPDATE, DELETE ON samples, runs, objects, alerts, perf, taxa, sample_counts TO phytoscreen_bench;
GRANT UPDATE (validated_label, validated_by, validated_at) ON objects TO phytoscreen_reviewer;
GRANT USAGE ON SEQUENCE label_rev_seq TO phytoscreen_bench, phytoscreen_reviewer;

-- Row level security. FORCE makes the policies bind the tables' owner too; the owner
-- (the role that migrated) keeps everything through its own policy.
-- +goose StatementBegin
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['benches', 'samples', 'runs', 'objects', 'alerts', 'perf', 'taxa', 'sample_counts'] LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY owner_all ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
		EXECUTE format('CREATE POLICY programme_read ON %I FOR SELECT TO phytoscreen_bench, phytoscreen_reader, phytoscreen_reviewer USING (true)', t);
		IF t <> 'benches' THEN
			-- a bench writes only rows of the bench registered to its login role
			EXECUTE format('CREATE POLICY bench_insert ON %I FOR INSERT TO phytoscreen_bench WITH CHECK (bench_id = (SELECT b.bench_id FROM benches b WHERE b.role_name = current_user))', t);
			EXECUTE format('CREATE POLICY bench_update ON %I FOR UPDATE TO phytoscreen_bench USING (bench_id = (SELECT b.bench_id FROM benches b WHERE b.role_name = current_user)) WITH CHECK (bench_id = (SELECT b.bench_id FROM benches b WHERE b.role_name = current_user))', t);
			EXECUTE format('CREATE POLICY bench_delete ON %I FOR DELETE TO phytoscreen_bench USING (bench_id = (SELECT b.bench_id FROM benches b WHERE b.role_name = current_user))', t);
		END IF;
	END LOOP;
END
$$;
-- +goose StatementEnd

-- a bench registers itself, under its own role only, and updates only its own row
CREATE POLICY bench_register ON benches FOR INSERT TO phytoscreen_bench WITH CHECK (role_name = current_user);
CREATE POLICY bench_own ON benches FOR UPDATE TO phytoscreen_bench USING (role_name = current_user) WITH CHECK (role_name = current_user);
-- a reviewer relabels objects of any bench (the column grant keeps it to the labels)
CREATE POLICY reviewer_relabel ON objects FOR UPDATE TO phytoscreen_reviewer USING (true) WITH CHECK (true);

-- +goose Down
DROP TABLE sample_counts, taxa, perf, alerts, objects, runs, samples, benches;
DROP FUNCTION objects_label_rev();
DROP SEQUENCE label_rev_seq;
