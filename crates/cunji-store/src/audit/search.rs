//! The audit log searched: by who, by kind of action, by village and by date, within what the user
//! may read. Every condition is a bound parameter; the number of rows is the caller's limit.

use sqlx::Row;

use super::{audit_rows, prefix_range, AuditRow, AuditScope, AUDIT_COLS};
use crate::db::{Store, StoreError};

/// What to look for; each `None` (or empty list) matches every row.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// The user who acted (user name, exact).
    pub actor: Option<String>,
    /// The actions to list (`entry_add`, `workflow_paid` …).
    pub actions: Vec<String>,
    /// Rows that concern a village under this code prefix.
    pub village_prefix: Option<String>,
    /// Unix seconds, from (inclusive) and to (exclusive).
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// A query being built: its SQL and the values bound to its `$n`.
struct Query {
    sql: String,
    binds: Vec<Bind>,
}

enum Bind {
    Text(String),
    Number(i64),
}

impl Query {
    /// `$n` for a new bound value.
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    /// `AND` an `EXISTS` over the row's villages in `[from, to)`.
    fn within(&mut self, prefix: &str) -> String {
        let (from, to) = prefix_range(prefix);
        let (a, b) = (self.bind(Bind::Text(from)), self.bind(Bind::Text(to)));
        format!(
            "EXISTS (SELECT 1 FROM audit_villages v WHERE v.audit_id = a.id AND v.village >= {a} AND v.village < {b})"
        )
    }
}

impl Store {
    /// The newest `limit` rows matching `filter` that the scope lets the user read, newest first.
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        scope: Option<&AuditScope>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut q = Query {
            sql: format!("SELECT {AUDIT_COLS} FROM audit_log a WHERE 1 = 1"),
            binds: Vec::new(),
        };
        if let Some(s) = scope {
            let who = q.bind(Bind::Text(s.actor.clone()));
            let villages = q.within(&s.prefix);
            q.sql += &format!(" AND (a.actor = {who} OR a.action = 'policy_save' OR {villages})");
        }
        if let Some(actor) = &filter.actor {
            let p = q.bind(Bind::Text(actor.clone()));
            q.sql += &format!(" AND a.actor = {p}");
        }
        if !filter.actions.is_empty() {
            let list: Vec<String> = filter
                .actions
                .iter()
                .map(|a| q.bind(Bind::Text(a.clone())))
                .collect();
            q.sql += &format!(" AND a.action IN ({})", list.join(", "));
        }
        if let Some(prefix) = &filter.village_prefix {
            let villages = q.within(prefix);
            q.sql += &format!(" AND {villages}");
        }
        for (bound, op) in [(filter.from, ">="), (filter.to, "<")] {
            if let Some(t) = bound {
                let p = q.bind(Bind::Number(t));
                q.sql += &format!(" AND a.at {op} {p}");
            }
        }
        let p = q.bind(Bind::Number(limit));
        q.sql += &format!(" ORDER BY a.id DESC LIMIT {p}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(q.sql));
        for b in q.binds {
            query = match b {
                Bind::Text(t) => query.bind(t),
                Bind::Number(n) => query.bind(n),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        audit_rows(&rows)
    }

    /// The village and year of each proposal among `ids` (for naming the object of workflow rows).
    pub async fn proposal_places(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::BTreeMap<i64, (String, i32)>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        // One query per 500 ids keeps the statement within every backend's parameter limit.
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, village, year FROM proposals WHERE id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for r in query.fetch_all(&self.pool).await? {
                let year: i64 = r.try_get(2)?;
                out.insert(r.try_get(0)?, (r.try_get(1)?, year as i32));
            }
        }
        Ok(out)
    }
}
