//! PostgreSQL: JSON through `json_array_elements` / `json_agg`; a bulk write binds one `jsonb` array a
//! batch, which the server parses once (the driver looks every bound parameter up by name, so many
//! parameters cost more than one long text).

use super::Dialect;
use super::VillageFacts;
use crate::entry_rows::NewEntry;
use crate::entry_rows::TotalRow;

/// What is kept of every village of a year (`Kept`) as one `bytea`: each village's code, its
/// value's length (4 bytes, big-endian) and its value (`pg_read::kept_joined`).
///
/// The sums are those of each village with facts, none (empty) where none are kept, as on SQLite.
pub(crate) fn kept_joined(kept: super::Kept) -> String {
    if kept == super::Kept::Sums {
        return "SELECT COALESCE(string_agg(convert_to(f.village, 'UTF8') || int4send(COALESCE(length(s.sums), 0)) \
                || COALESCE(s.sums, ''::bytea), ''::bytea), ''::bytea) \
                FROM entry_facts f LEFT JOIN entry_sums s ON s.year = f.year AND s.village = f.village WHERE f.year = $1"
            .to_string();
    }
    let (table, column) = kept.table();
    format!(
        "SELECT COALESCE(string_agg(convert_to(village, 'UTF8') || int4send(length({column})) || {column}, ''::bytea), ''::bytea) \
         FROM {table} WHERE year = $1"
    )
}

/// The year's cadres as one text: fields apart by U+001F, rows by U+001E, a nullable value empty
/// for NULL or `=` and the value; with the row count (`pg_read::cadres_joined`).
pub(crate) const CADRES_JOINED: &str = "SELECT count(*), COALESCE(string_agg(concat_ws(E'\\x1f', village, year, person, name, role, months_in_post, sanctioned, \
     COALESCE('=' || base_pay::text, ''), COALESCE('=' || appraisal, '')), E'\\x1e'), '') FROM cadres WHERE year = $1";

/// Every region as one text, as `CADRES_JOINED` (`pg_read::regions_joined`).
pub(crate) const REGIONS_JOINED: &str = "SELECT count(*), COALESCE(string_agg(concat_ws(E'\\x1f', code, name, COALESCE('=' || merged_in::text, '')), E'\\x1e'), '') \
     FROM regions";

pub(crate) const MIGRATIONS: [(i64, &str); 20] = [
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_web.sql")),
    (3, include_str!("../../migrations/postgres/0003_stats.sql")),
    (
        4,
        include_str!("../../migrations/postgres/0004_audit_chain.sql"),
    ),
    (5, include_str!("../../migrations/postgres/0005_scale.sql")),
    (
        6,
        include_str!("../../migrations/postgres/0006_lean_entries.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_fact_bytes.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_audit_scope.sql"),
    ),
    super::shared::WORKFLOW_RULES,
    (
        10,
        include_str!("../../migrations/postgres/0010_attachments.sql"),
    ),
    super::shared::PUBLISHED_FIGURES,
    super::shared::SETTINGS,
    super::shared::STORY,
    super::shared::DISTRIBUTIONS,
    (
        15,
        include_str!("../../migrations/postgres/0015_entry_sums.sql"),
    ),
    (16, include_str!("../../migrations/postgres/0016_seals.sql")),
    super::shared::CONTRACTS,
    super::shared::CONTRACT_SEALS,
    (
        19,
        include_str!("../../migrations/postgres/0019_receipt_seals.sql"),
    ),
    super::shared::KEPT_CONTRACT_YEARS,
];

pub(crate) static DIALECT: Dialect = Dialect {
    migrations: &MIGRATIONS,
    entry_batch_rows: crate::entry_rows::BATCH_ROWS_POSTGRES,
    facts_column: "facts",
    texts_of_param_2: "SELECT json_array_elements_text($2::json)",
    upsert_regions: "INSERT INTO regions (code, name, level, merged_in) \
         SELECT r->>0, r->>1, r->>2, (r->>3)::bigint FROM json_array_elements($1::json) AS t(r) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, merged_in = excluded.merged_in",
    unlink_predecessors: "DELETE FROM region_predecessors WHERE successor IN (SELECT r->>0 FROM json_array_elements($1::json) AS t(r))",
    link_predecessors: "INSERT INTO region_predecessors (predecessor, successor) \
         SELECT r->>0, r->>1 FROM json_array_elements($1::json) AS t(r)",
    regions_array: "SELECT COALESCE(json_agg(json_build_array(code, name, merged_in))::text, '[]') FROM regions",
    totals_text: super::TOTALS_TEXT,
    cadres_array: "SELECT COALESCE(json_agg(json_build_array(village, year, person, name, role, months_in_post, sanctioned, base_pay, appraisal))::text, '[]') \
         FROM cadres WHERE year = $1",
    all_sums: "SELECT village, year, sums FROM entry_sums",
    entries_array: (
        "SELECT COALESCE(json_agg(json_build_array(id, date, account, amount, voucher, memo, project, reverses, source, actor, reversed_by) \
         ORDER BY date, id)::text, '[]') FROM (",
        ") t",
    ),
};

pub(super) async fn write_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    write_id: i64,
    entries: &[NewEntry],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO entries (village, year, date, account, amount, voucher, memo, project, reverses, write_id) \
         SELECT r->>0, (r->>1)::bigint, r->>2, (r->>3)::smallint, (r->>4)::bigint, r->>5, r->>6, r->>7, r->>8, $2 \
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(r, i) ORDER BY i",
    )
    .bind(crate::entry_rows::entries_json(entries))
    .bind(write_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn write_totals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    totals: &[TotalRow],
) -> Result<(), sqlx::Error> {
    for chunk in totals.chunks(crate::entry_rows::BATCH_ROWS) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(v, y, a, amount, n)| (v, y, a.key(), amount, n))
            .collect();
        let json = serde_json::to_string(&rows).expect("totals are plain values");
        sqlx::query(
            "INSERT INTO totals (village, year, account, amount, entries) \
             SELECT r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, (r->>4)::bigint FROM jsonb_array_elements($1::jsonb) AS t(r) \
             ON CONFLICT (village, year, account) DO UPDATE SET amount = totals.amount + excluded.amount, entries = totals.entries + excluded.entries",
        )
        .bind(json)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn write_project_totals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    projects: &[(String, i32, i64)],
) -> Result<(), sqlx::Error> {
    for chunk in projects.chunks(crate::entry_rows::BATCH_ROWS) {
        let json = serde_json::to_string(chunk).expect("project totals are plain values");
        sqlx::query(
            "INSERT INTO project_totals (project, year, amount) \
             SELECT r->>0, (r->>1)::bigint, (r->>2)::bigint FROM jsonb_array_elements($1::jsonb) AS t(r) \
             ON CONFLICT (project, year) DO UPDATE SET amount = project_totals.amount + excluded.amount",
        )
        .bind(json)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// `[[year, village, facts in hex], …]`: parsed once as jsonb, each value taken out as it is.
/// What is kept of villages of a year (`Kept`), hex in one `jsonb` array, replacing what is stored.
pub(super) async fn write_kept(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kept: super::Kept,
    year: i32,
    rows: &[VillageFacts],
) -> Result<(), sqlx::Error> {
    let rows: Vec<(i32, &str, String)> = rows
        .iter()
        .map(|(v, bytes)| (year, v.as_str(), crate::hex(bytes)))
        .collect();
    let json = serde_json::to_string(&rows).expect("plain values");
    let (table, column) = kept.table();
    let sql = format!(
        "INSERT INTO {table} (year, village, {column}) SELECT (r->>0)::bigint, r->>1, decode(r->>2, 'hex') \
         FROM jsonb_array_elements($1::jsonb) AS t(r) ON CONFLICT (year, village) DO UPDATE SET {column} = excluded.{column}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
