//! A year's contract figures and alerts, kept once a report has made them (migration 20, SPEC §16):
//! a province's report read 150,163 contracts and 321,226 receipts to make them (2 s, five times the
//! rest of the report); kept, the next report reads one row a village.
//!
//! They are derived, never a record, and are used only while they still hold: a year that is not
//! running (report date 31 December), the same `[contracts]` settings, the same form of the rows, and
//! the same newest audit row as when they were made. Every write of the books (an import, a contract
//! added, ended or renewed on the web, a grant) adds an audit row, so any change makes the next report
//! judge the contracts again and keep the new figures. `check` makes them again and compares, so that
//! a direct edit of the kept rows is found like one of the records.

use cunji_core::alerts::{Alert, AlertKind};
use cunji_core::contracts::{ContractSettings, VillageContracts};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::report::{ContractYear, ContractYears};
use sqlx::Row;

use crate::db::{Store, StoreError};

/// The form of the kept rows and of what made them: raised whenever the figures, the alerts or
/// their texts are made differently, so that rows made by an older cunji are not read.
const FORM: i64 = 1;

/// The settings as the stamp holds them (every field: a new one fails to compile here).
fn settings_text(s: &ContractSettings) -> String {
    let ContractSettings {
        resolution_threshold,
    } = s;
    resolution_threshold.fen().to_string()
}

/// The settings a stamp holds, read back for `check`.
fn settings_of(text: &str) -> Option<ContractSettings> {
    Some(ContractSettings {
        resolution_threshold: Fen::from_fen(text.parse().ok()?),
    })
}

impl Store {
    /// The kept figures of `year` at report date `at` under `settings`, while they still hold at
    /// audit row `head` (see the module's docs); `None` when they do not or were never kept.
    pub async fn kept_contract_years(
        &self,
        year: i32,
        at: Date,
        settings: &ContractSettings,
        head: i64,
    ) -> Result<Option<ContractYears>, StoreError> {
        let stamp = sqlx::query(
            "SELECT audit_head, report_date, settings, form FROM kept_contract_stamps WHERE year = $1",
        )
        .bind(i64::from(year))
        .fetch_optional(&self.pool)
        .await?;
        let Some(stamp) = stamp else {
            return Ok(None);
        };
        let (stamp_head, date, text, form): (i64, String, String, i64) = (
            stamp.try_get(0)?,
            stamp.try_get(1)?,
            stamp.try_get(2)?,
            stamp.try_get(3)?,
        );
        if form != FORM || date != at.iso() || text != settings_text(settings) {
            return Ok(None);
        }
        if stamp_head != head {
            return Ok(None);
        }
        let t = crate::timing::Timer::start();
        let rows = self.kept_rows(year).await?;
        t.lap("kept contracts: rows read");
        // The alerts' JSON read on every core (10 MB for a province).
        let made = cunji_core::parallel::map_in_parts(&rows, |r| r.made(year, at));
        let villages = made.into_iter().flatten().collect::<Result<Vec<_>, _>>()?;
        t.lap("kept contracts: made");
        Ok(Some(ContractYears::new(
            year,
            at,
            settings.clone(),
            villages,
        )))
    }

    /// Keeps `years`, made from the books as they stood at audit row `head`; nothing when the
    /// books have changed since (what was read may mix before and after), or when the year is
    /// running. Their earlier figures of the year are replaced.
    pub async fn keep_contract_years(
        &self,
        years: &ContractYears,
        head: i64,
    ) -> Result<(), StoreError> {
        if years.at != Date::year_end(years.year) {
            return Ok(());
        }
        // Not through `begin_write`: nothing here joins the audit chain, and a report must not
        // wait for the write lock an import holds. Given up at once when another writer holds it.
        let mut conn = self.pool.acquire().await?;
        self.backend.set_waiting(&mut conn, false).await?;
        let kept = keep_on(&mut conn, years, head).await;
        if let Err(e) = self.backend.set_waiting(&mut conn, true).await {
            // Never back into the pool unable to wait.
            conn.close_on_drop();
            return Err(e.into());
        }
        kept
    }
}

/// Keeps `years` on `conn` (see `keep_contract_years`).
async fn keep_on(
    conn: &mut sqlx::AnyConnection,
    years: &ContractYears,
    head: i64,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    if crate::audit::seals::newest(&mut tx).await? != head {
        return Ok(());
    }
    let year = i64::from(years.year);
    for sql in [
        "DELETE FROM kept_contract_years WHERE year = $1",
        "DELETE FROM kept_contract_stamps WHERE year = $1",
    ] {
        sqlx::query(sql).bind(year).execute(&mut *tx).await?;
    }
    let rows: Vec<KeptRow> = years
        .villages()
        .map(|(v, y)| KeptRow::of(v.as_str(), y))
        .collect::<Result<_, _>>()?;
    let backend = crate::backend::Backend::of(&tx);
    write_rows(&mut tx, backend, year, rows).await?;
    sqlx::query("INSERT INTO kept_contract_stamps (year, audit_head, report_date, settings, form) VALUES ($1, $2, $3, $4, $5)")
            .bind(year)
            .bind(head)
            .bind(years.at.iso())
            .bind(settings_text(&years.settings))
            .bind(FORM)
            .execute(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(())
}

impl Store {
    /// The kept figures a report would now read (their stamp still holding), made again from the
    /// books and compared: each difference in Chinese (the village, the year, the figure).
    pub(crate) async fn kept_contract_differences(&self) -> Result<Vec<String>, StoreError> {
        let head = self.audit_head().await?.0;
        let stamps = sqlx::query(
            "SELECT year, report_date, settings FROM kept_contract_stamps WHERE audit_head = $1 AND form = $2 ORDER BY year",
        )
        .bind(head)
        .bind(FORM)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in stamps {
            let year = r.try_get::<i64, _>(0)? as i32;
            let (Ok(at), Some(settings)) = (
                Date::parse(&r.try_get::<String, _>(1)?),
                settings_of(&r.try_get::<String, _>(2)?),
            ) else {
                out.push(format!("保存的 {year} 年合同汇总的标记有误"));
                continue;
            };
            let Some(kept) = self.kept_contract_years(year, at, &settings, head).await? else {
                continue;
            };
            let data = self.load_for_contracts(year).await?;
            let made = match cunji_core::report::contract_years(
                &settings,
                &data.input(year, None, Some(at)),
            ) {
                Ok(m) => m,
                Err(e) => {
                    out.push(format!("{year} 年合同汇总无法重新计算：{e}"));
                    continue;
                }
            };
            out.extend(differences(year, &kept, &made));
        }
        Ok(out)
    }
}

/// Where kept figures differ from those made again, village by village (at most 20 listed).
fn differences(year: i32, kept: &ContractYears, made: &ContractYears) -> Vec<String> {
    const LISTED: usize = 20;
    let mut villages: Vec<&cunji_core::region::RegionCode> = kept
        .villages()
        .chain(made.villages())
        .map(|(v, _)| v)
        .collect();
    villages.sort();
    villages.dedup();
    let differing: Vec<String> = villages
        .into_iter()
        .filter(|v| kept.of(v) != made.of(v))
        .map(|v| {
            format!("村 {v} {year} 年的合同汇总或提示与按合同重新计算的不符（保存的汇总被改动过）")
        })
        .collect();
    let n = differing.len();
    let mut out: Vec<String> = differing.into_iter().take(LISTED).collect();
    if n > LISTED {
        out.push(format!(
            "……另有 {} 个村的 {year} 年合同汇总不符",
            n - LISTED
        ));
    }
    out
}

/// A kept row as stored: village, the four figures (`None`: no contract at all), the alerts' JSON.
struct StoredRow {
    village: String,
    figures: Option<[i64; 4]>,
    alerts: Option<String>,
}

impl StoredRow {
    /// The village's figures and alerts of `year` at report date `at`.
    fn made(
        &self,
        year: i32,
        at: Date,
    ) -> Result<(cunji_core::region::RegionCode, ContractYear), StoreError> {
        let village = crate::kept::code(&self.village)?;
        let figures = self.figures.map(|[n, contracted, received, arrears]| {
            VillageContracts::new(
                n.max(0) as u64,
                Fen::from_fen(contracted),
                Fen::from_fen(received),
                Fen::from_fen(arrears),
                year,
                at,
            )
        });
        let alerts = match &self.alerts {
            Some(json) => alerts_of(json)?,
            None => Vec::new(),
        };
        Ok((village, ContractYear { figures, alerts }))
    }
}

impl Store {
    /// The kept rows of `year`: on SQLite stepped natively, else through sqlx.
    async fn kept_rows(&self, year: i32) -> Result<Vec<StoredRow>, StoreError> {
        let figures = |v: [Option<i64>; 4]| match v {
            [Some(a), Some(b), Some(c), Some(d)] => Ok(Some([a, b, c, d])),
            [None, None, None, None] => Ok(None),
            _ => Err(StoreError::Corrupt("保存的合同汇总有误".into())),
        };
        let native = crate::backend::reads::kept_contract_rows(&self.pool, self.backend, year);
        if let Some(rows) = native.await? {
            return rows
                .into_iter()
                .map(|row| {
                    let mut v = crate::contracts::Values(row.into_iter());
                    Ok(StoredRow {
                        village: v.text()?,
                        figures: figures([v.opt_int()?, v.opt_int()?, v.opt_int()?, v.opt_int()?])?,
                        alerts: v.opt_text()?,
                    })
                })
                .collect();
        }
        sqlx::query(
            "SELECT village, count, contracted, received, arrears, alerts FROM kept_contract_years WHERE year = $1",
        )
        .bind(i64::from(year))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredRow {
                village: r.try_get(0)?,
                figures: figures([r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?])?,
                alerts: r.try_get(5)?,
            })
        })
        .collect()
    }
}

/// One village's kept row.
struct KeptRow {
    village: String,
    figures: Option<[i64; 4]>,
    alerts: Option<String>,
}

impl KeptRow {
    fn of(village: &str, y: &ContractYear) -> Result<KeptRow, StoreError> {
        let figures = y.figures.as_ref().map(|f| {
            [
                f.count.min(i64::MAX as u64) as i64,
                f.contracted.fen(),
                f.received.fen(),
                f.arrears.fen(),
            ]
        });
        let alerts = if y.alerts.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&y.alerts)
                    .map_err(|e| StoreError::Corrupt(format!("合同提示无法保存：{e}")))?,
            )
        };
        Ok(KeptRow {
            village: village.to_string(),
            figures,
            alerts,
        })
    }
}

/// Writes the kept rows of `year`.
async fn write_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::backend::Backend,
    year: i64,
    rows: Vec<KeptRow>,
) -> Result<(), StoreError> {
    use crate::backend::insert::{Insert, Kind};
    use crate::backend::sqlite_bulk::Value;
    const INSERT: Insert = Insert {
        native: c"INSERT INTO kept_contract_years (year, village, count, contracted, received, arrears, alerts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        head: "INSERT INTO kept_contract_years (year, village, count, contracted, received, arrears, alerts) VALUES",
        tail: "",
        columns: &[Kind::Int, Kind::Text, Kind::Int, Kind::Int, Kind::Int, Kind::Int, Kind::Text],
    };
    let int = |f: Option<[i64; 4]>, i: usize| f.map_or(Value::Null, |f| Value::Int(f[i]));
    let values = rows
        .into_iter()
        .map(|r| {
            vec![
                Value::Text(r.village),
                int(r.figures, 0),
                int(r.figures, 1),
                int(r.figures, 2),
                int(r.figures, 3),
                r.alerts.map_or(Value::Null, Value::Text),
            ]
        })
        .collect();
    backend
        .insert_rows(tx, &INSERT, Value::Int(year), values)
        .await?;
    Ok(())
}

/// An alert as kept (the report's JSON of it).
#[derive(serde::Deserialize)]
struct KeptAlert {
    village: String,
    kind: String,
    message: String,
    evidence: Vec<String>,
}

/// The alerts kept as JSON, read back.
fn alerts_of(json: &str) -> Result<Vec<Alert>, StoreError> {
    let bad = || StoreError::Corrupt("保存的合同提示有误".into());
    let list: Vec<KeptAlert> = serde_json::from_str(json).map_err(|_| bad())?;
    list.into_iter()
        .map(|a| {
            Ok(Alert {
                village: a.village,
                kind: AlertKind::from_key(&a.kind).ok_or_else(bad)?,
                message: a.message,
                evidence: a.evidence,
            })
        })
        .collect()
}
