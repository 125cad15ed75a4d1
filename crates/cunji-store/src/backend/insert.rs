//! Many rows into one table, the one way both backends do it: on SQLite through the bulk write
//! (`sqlite_bulk`, bound natively, in order), on PostgreSQL a batch of rows a multi-row `INSERT`.
//!
//! Why one place: the seals of an import (150,163 contracts), a report's kept contract figures
//! (50,000 villages) and an audit row's villages each built the same numbered placeholders and
//! asked the driver's name for themselves. sqlx's binding of those seals 200 a statement was
//! seconds of an import on SQLite; the bulk write is a fraction of one.

use std::ffi::CStr;

use super::sqlite_bulk::{self, Bulk, Value};
use super::Backend;

/// The kind of a column, so that an empty value is bound as the column's type (PostgreSQL
/// refuses a `bigint` null for a `text` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
}

/// An `INSERT` of rows whose first value is the same for every row (the audit row, the year).
pub(crate) struct Insert {
    /// The statement of one row, `?1…?n` in `columns`' order (SQLite's bulk write).
    pub native: &'static CStr,
    /// `INSERT INTO table (columns) VALUES`, to which the rows' placeholders are added.
    pub head: &'static str,
    /// What follows the rows (`ON CONFLICT DO NOTHING`), or nothing.
    pub tail: &'static str,
    /// Each column's kind, the shared first one included.
    pub columns: &'static [Kind],
}

/// Parameters a statement on PostgreSQL: well within its 65,535, and a statement of a few
/// hundred rows is parsed in well under its rows' execution time.
const PARAMETERS: usize = 1_400;

impl Backend {
    /// Inserts `rows` (each the values after the shared `first`, in `insert.columns`' order).
    pub(crate) async fn insert_rows(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        insert: &Insert,
        first: Value,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Backend::Sqlite => {
                let rows = rows
                    .into_iter()
                    .map(|r| std::iter::once(first.clone()).chain(r).collect())
                    .collect();
                let sql = insert.native;
                sqlite_bulk::write(tx, Bulk::Rows { sql, rows }).await
            }
            Backend::Postgres => {
                let per_row = insert.columns.len() - 1;
                for chunk in rows.chunks(PARAMETERS / per_row.max(1)) {
                    let sql = batch_sql(insert, chunk.len());
                    let mut q = bind(
                        sqlx::query(sqlx::AssertSqlSafe(sql)),
                        &first,
                        insert.columns[0],
                    );
                    for row in chunk {
                        for (v, kind) in row.iter().zip(&insert.columns[1..]) {
                            q = bind(q, v, *kind);
                        }
                    }
                    q.execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    }
}

/// The statement of `n` rows: `head ($1, $2, …, $m+1), ($1, $m+2, …) tail`.
fn batch_sql(insert: &Insert, n: usize) -> String {
    let per_row = insert.columns.len() - 1;
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let ps: Vec<String> = (0..per_row)
                .map(|c| format!("${}", 2 + i * per_row + c))
                .collect();
            format!("($1, {})", ps.join(", "))
        })
        .collect();
    format!("{} {} {}", insert.head, rows.join(", "), insert.tail)
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind<'q>(q: Query<'q>, v: &Value, kind: Kind) -> Query<'q> {
    match (v, kind) {
        (Value::Int(i), _) => q.bind(*i),
        (Value::Text(t), _) => q.bind(t.clone()),
        (Value::Blob(b), _) => q.bind(b.clone()),
        (Value::Null, Kind::Int) => q.bind(None::<i64>),
        (Value::Null, Kind::Text) => q.bind(None::<String>),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_numbers_each_rows_values_after_the_shared_first() {
        let insert = Insert {
            native: c"INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)",
            head: "INSERT INTO t (a, b, c) VALUES",
            tail: "ON CONFLICT DO NOTHING",
            columns: &[Kind::Int, Kind::Text, Kind::Int],
        };
        assert_eq!(
            batch_sql(&insert, 3),
            "INSERT INTO t (a, b, c) VALUES ($1, $2, $3), ($1, $4, $5), ($1, $6, $7) ON CONFLICT DO NOTHING"
        );
    }
}
