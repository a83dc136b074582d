-- sgfdw 0.3 -> 0.4: key filters for layered lookups.
\echo Use "ALTER EXTENSION sgfdw UPDATE TO '0.4'" to load this file. \quit

-- ==== Key filters (sgfdw/store/keyfilter.py, sgfdw/layered/prune.py) ==============
-- Per object, a Bloom filter over each primary key column's values, so that a key
-- lookup skips the objects that cannot hold its key: {"scheme": ..., "columns":
-- {column: {"hashes": k, "bits": base64}}}. Derived from the rows like index (not part
-- of the object id); NULL for objects stored before, which are never skipped by it.
ALTER TABLE splitgraph_meta.objects ADD COLUMN filters jsonb;
