namespace Kinship.Store;

/// <summary>
/// The store's tables, written once for both databases with their integer and text types filled in. Verdicts are
/// rows, one per label, so rates can be computed in SQL; they carry no index beyond their key because a run's
/// verdicts are read by run (the key's prefix), and a label index cost about a quarter of the pipeline's CPU per episode in bench/Kinship.Bench.Store.
/// A verdict's <c>scoring</c> is 0 when the run wrote it and a <c>scorings</c> row's id when <c>kinship rescore</c> did:
/// re-scoring adds rows (with <c>ord</c> continuing after the episode's last), it never changes one.
/// </summary>
/// <remarks>
/// Version 1 had no scorings, version 2 no <c>texts</c> (long texts were inline in the episodes' JSON, which still
/// reads), version 3 no <c>interviews</c>, version 4 no <c>batches</c>. <see cref="Upgrade"/> adds what is missing in place, every old verdict becoming scoring 0.
/// </remarks>
internal static class Schema
{
    public static string Tables(string bigint, string text, string real) =>
        $"""
            CREATE TABLE IF NOT EXISTS kinship_meta (key {text} PRIMARY KEY, value {text} NOT NULL);
            CREATE TABLE IF NOT EXISTS runs (
                run_id {text} PRIMARY KEY, created {bigint} NOT NULL, harness_version {text} NOT NULL, plan_hash {text} NOT NULL,
                manifest {text} NOT NULL, options {text} NOT NULL);
            CREATE INDEX IF NOT EXISTS runs_plan ON runs (plan_hash);
            CREATE TABLE IF NOT EXISTS run_scenarios (
                run_id {text} NOT NULL, scenario_id {text} NOT NULL, file {text} NOT NULL, sha256 {text} NOT NULL, yaml {text} NOT NULL, referenced {text} NOT NULL,
                PRIMARY KEY (run_id, scenario_id));
            CREATE TABLE IF NOT EXISTS cells (
                run_id {text} NOT NULL, cell {text} NOT NULL, model {text} NOT NULL, scenario {text} NOT NULL, condition {text} NOT NULL, planned INTEGER NOT NULL,
                PRIMARY KEY (run_id, cell));
            CREATE TABLE IF NOT EXISTS episodes (
                run_id {text} NOT NULL, idx INTEGER NOT NULL, cell {text} NOT NULL, model {text} NOT NULL, scenario {text} NOT NULL,
                condition {text} NOT NULL, condition_json {text} NOT NULL, ablations {text} NOT NULL, rollout INTEGER NOT NULL, seed {bigint} NOT NULL,
                status {text} NOT NULL, attempts INTEGER NOT NULL, lease_owner {text}, lease_expires {bigint}, error_cause {text},
                started {bigint}, finished {bigint}, stop {text}, tokens {bigint}, critic {text}, subject {text},
                tools {text}, transcript {text}, final_state {text}, calls {text},
                PRIMARY KEY (run_id, idx));
            CREATE INDEX IF NOT EXISTS episodes_status ON episodes (run_id, status, idx);
            CREATE TABLE IF NOT EXISTS verdicts (
                run_id {text} NOT NULL, idx INTEGER NOT NULL, ord INTEGER NOT NULL, label {text} NOT NULL, flag INTEGER, number {real}, text {text},
                detector {text} NOT NULL, rule {text} NOT NULL, evidence {text} NOT NULL, source {text} NOT NULL, scoring INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_id, idx, ord));
            {Scorings(bigint, text)}
            {Texts(text)}
            {Interviews(bigint, text)}
            {Batches(bigint, text)}
            """;

    private static string Scorings(string bigint, string text) =>
        $"""
            CREATE TABLE IF NOT EXISTS scorings (
                run_id {text} NOT NULL, scoring INTEGER NOT NULL, created {bigint} NOT NULL, detectors {text} NOT NULL, judge {text}, harness_version {text} NOT NULL,
                PRIMARY KEY (run_id, scoring));
            """;

    private static string Texts(string text) =>
        $"""
            CREATE TABLE IF NOT EXISTS texts (
                run_id {text} NOT NULL, text_key {text} NOT NULL, body {text} NOT NULL,
                PRIMARY KEY (run_id, text_key));
            """;

    /// <summary>
    /// Follow-up interviews, numbered per episode from 1. The exchanges and verdicts are JSON; the world after the
    /// interview keeps its long documents in <c>texts</c>, as an episode's does.
    /// </summary>
    private static string Interviews(string bigint, string text) =>
        $"""
            CREATE TABLE IF NOT EXISTS interviews (
                run_id {text} NOT NULL, idx INTEGER NOT NULL, number INTEGER NOT NULL, question_set {text} NOT NULL, model {text} NOT NULL,
                created {bigint} NOT NULL, end_reason {text} NOT NULL, error {text}, usage {text} NOT NULL, exchanges {text} NOT NULL,
                final_state {text}, verdicts {text} NOT NULL,
                PRIMARY KEY (run_id, idx, number));
            """;

    /// <summary>
    /// The batches a run sent to providers' batch APIs (<c>kinship run --batch</c>): the provider's id for each and the
    /// custom ids of its requests as a JSON array, so that a resumed run waits for them instead of paying again.
    /// </summary>
    private static string Batches(string bigint, string text) =>
        $"""
            CREATE TABLE IF NOT EXISTS batches (
                run_id {text} NOT NULL, provider {text} NOT NULL, batch_id {text} NOT NULL, model {text} NOT NULL, submitted {bigint} NOT NULL,
                items {text} NOT NULL,
                PRIMARY KEY (run_id, provider, batch_id));
            """;

    /// <summary>Brings a store from <paramref name="version"/> to the current one, keeping every row; episodes stored inline stay readable as they are.</summary>
    public static string Upgrade(int version, string bigint, string text) =>
        (version < 2 ? "ALTER TABLE verdicts ADD COLUMN scoring INTEGER NOT NULL DEFAULT 0;\n" + Scorings(bigint, text) : "")
        + (version < 3 ? Texts(text) : "")
        + (version < 4 ? Interviews(bigint, text) : "")
        + (version < 5 ? Batches(bigint, text) : "")
        + $"UPDATE kinship_meta SET value = '{SqlRunStore.SchemaVersion}' WHERE key = 'schema_version';";
}
