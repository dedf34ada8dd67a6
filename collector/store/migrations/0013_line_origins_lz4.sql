-- The fingerprint index (ai_line_origins, migration 0008) writes its timestamps and file paths with LZ4 instead of
-- ZSTD. It holds a row per line a generation wrote (about 21 per generation of the ingest bench), sorted by
-- fingerprint, so writing it is the costliest part of storing a generation: 17.0-17.6 µs per generation span, 13.6 with
-- these two columns in LZ4, for 7% more bytes (python -m bench ingest, "engine costs"; docs/ingest-engine.md).
-- Sorted by fingerprint, the timestamps gain nothing from Delta. The trace and span ids stay ZSTD: LZ4 would save
-- 4.7 µs more but store them 60% larger (random hex, which only entropy coding shrinks). Lookups keep their 256-row
-- granules and small compression blocks. Parts written before keep their codec until they are merged.
ALTER TABLE ${database}.ai_line_origins
    MODIFY COLUMN timestamp DateTime64(9) CODEC(LZ4),
    MODIFY COLUMN file_path String CODEC(LZ4);
