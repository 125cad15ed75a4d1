//! Loading stored state into the core's plain types: the region register, the year books (from the
//! kept totals, never by scanning entries), cadres, grants and project returns.

use std::collections::{BTreeMap, BTreeSet};

use cunji_core::account::Account;
use cunji_core::books::{Books, YearBooks};
use cunji_core::cadre::{Cadre, Role};
use cunji_core::money::Fen;
use cunji_core::rate::Ppm;
use cunji_core::region::{Region, RegionCode, RegionSet};
use cunji_core::subsidy::{Grant, SourceLevel};
use sqlx::Row;

use crate::db::{Store, StoreError};
use crate::kept::{code, code_of_number};

/// Everything a report of one year reads.
pub struct LoadedData {
    pub regions: RegionSet,
    pub books: Books,
    /// The report year's cadres, sorted by village and person.
    pub cadres: Vec<Cadre>,
    pub grants: Vec<Grant>,
    pub project_actuals: BTreeMap<String, Fen>,
    pub stats: cunji_core::pay_floor::RuralIncome,
    /// The year's entries per village, for alerts, read from their kept form when a report asks.
    pub entries: crate::facts::YearFacts,
    /// The year's distributions from statement books (SPEC §14).
    pub distributions: BTreeMap<RegionCode, cunji_core::statement_book::Distribution>,
    /// Assets, contracts and their receipts (SPEC §16); empty when `kept_contracts` serve instead.
    pub contracts: cunji_core::contracts::ContractBook,
    /// The year's contract figures and alerts, kept or made once for this load.
    pub kept_contracts: Option<cunji_core::report::ContractYears>,
}

impl LoadedData {
    /// What the core's report of `year` reads, from this load.
    pub fn input<'a>(
        &'a self,
        year: i32,
        scope: Option<&'a RegionCode>,
        today: Option<cunji_core::date::Date>,
    ) -> cunji_core::report::ReportInput<'a> {
        cunji_core::report::ReportInput {
            year,
            regions: &self.regions,
            books: &self.books,
            cadres: &self.cadres,
            grants: &self.grants,
            project_actuals: &self.project_actuals,
            stats: &self.stats,
            entries: &self.entries,
            today,
            scope,
            distributions: &self.distributions,
            contracts: &self.contracts,
            kept_contracts: self.kept_contracts.as_ref(),
        }
    }
}

impl LoadedData {
    /// The calculation of `village`'s reward in `year` told for villagers (SPEC §15), under `policy`;
    /// empty when the policy has no plan.
    pub fn story(
        &self,
        policy: &cunji_core::policy::Policy,
        year: i32,
        village: &RegionCode,
    ) -> Result<Vec<String>, cunji_core::report::ReportError> {
        let input = self.input(year, Some(village), None);
        let told = cunji_core::report::village_story(policy, &input, village)?;
        Ok(told.unwrap_or_default())
    }
}

/// A cadre row (village, year, person, name, role, months_in_post, sanctioned, base_pay, appraisal).
fn cadre_of(r: &sqlx::any::AnyRow) -> Result<Cadre, StoreError> {
    let role: String = r.try_get(4)?;
    Ok(Cadre {
        village: code(&r.try_get::<String, _>(0)?)?,
        year: r.try_get::<i64, _>(1)? as i32,
        person: r.try_get(2)?,
        name: r.try_get(3)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("数据库中有未知职务 {role}")))?,
        months_in_post: r.try_get::<i64, _>(5)? as u8,
        sanctioned: r.try_get::<i64, _>(6)? != 0,
        base_pay: r.try_get::<Option<i64>, _>(7)?.map(Fen::from_fen),
        appraisal: r.try_get(8)?,
    })
}

impl Store {
    pub async fn load_regions(&self) -> Result<RegionSet, StoreError> {
        let mut preds: BTreeMap<String, Vec<RegionCode>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT predecessor, successor FROM region_predecessors ORDER BY predecessor",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let p: String = r.try_get(0)?;
            let s: String = r.try_get(1)?;
            preds.entry(s).or_default().push(code(&p)?);
        }
        let mut set = RegionSet::new();
        // One value built by the database: the country has half a million regions.
        let joined = crate::backend::reads::regions_joined(&self.pool, self.backend).await?;
        let rows = match joined {
            Some(rows) => rows,
            None => {
                let sql = self.backend.dialect().regions_array;
                let text: String = sqlx::query(sql).fetch_one(&self.pool).await?.try_get(0)?;
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("数据库中的区划有误：{e}")))?
            }
        };
        for (c, name, merged_in) in rows {
            set.insert(Region {
                code: code(&c)?,
                name,
                predecessors: preds.remove(&c).unwrap_or_default(),
                merged_in: merged_in.map(|y| y as i32),
            });
        }
        let problems = set.check_merges();
        if let Some((c, e)) = problems.first() {
            return Err(StoreError::Corrupt(format!(
                "数据库中的合并关系有误（{c}）：{e}"
            )));
        }
        Ok(set)
    }

    /// Every kept total: on SQLite stepped natively (`sqlite_read`), on PostgreSQL as one text the
    /// database joins (a country has 1.3 million totals, and rows, not bytes, are what reading
    /// through the driver costs).
    pub async fn load_books(&self) -> Result<Books, StoreError> {
        self.load_books_from(i32::MIN).await
    }

    /// The kept totals of `from_year` and after (what a report under a given policy reads:
    /// `Policy::first_year_read`).
    pub async fn load_books_from(&self, from_year: i32) -> Result<Books, StoreError> {
        let rows = crate::backend::reads::totals(&self.pool, self.backend, from_year).await?;
        // Rows come in the table's order, a village's years apart: grouped here by village.
        let mut at: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        let mut villages: Vec<(u64, YearBooks)> = Vec::new();
        for r in rows {
            let i = *at.entry(r.village).or_insert_with(|| {
                villages.push((r.village, YearBooks::default()));
                villages.len() - 1
            });
            let book = villages[i].1.entry(r.year);
            let a = r.account.index();
            book.totals[a] = book.totals[a].saturating_add(Fen::from_fen(r.amount));
            book.entries += r.entries as u64;
        }
        let mut books = Books::new();
        for (village, years) in villages {
            books.add_years(code_of_number(village)?, years);
        }
        Ok(books)
    }

    /// The cadres of `year`, read as one JSON array the database builds (a province's cadres are
    /// fifty thousand rows of nine values, and values, not bytes, are what reading costs).
    async fn cadres_array(
        &self,
        year: i32,
    ) -> Result<Vec<crate::backend::pg_read::CadreRow>, StoreError> {
        let sql = self.backend.dialect().cadres_array;
        let text: String = sqlx::query(sql)
            .bind(year)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("数据库中的村干部有误：{e}")))
    }

    pub async fn load_cadres(&self, year: i32) -> Result<Vec<Cadre>, StoreError> {
        let joined = crate::backend::reads::cadres_joined(&self.pool, self.backend, year).await?;
        let rows = match joined {
            Some(rows) => rows,
            None => self.cadres_array(year).await?,
        };
        rows.into_iter()
            .map(
                |(village, year, person, name, role, months, sanctioned, base_pay, appraisal)| {
                    Ok(Cadre {
                        village: code(&village)?,
                        year: year as i32,
                        person,
                        name,
                        role: Role::parse(&role).ok_or_else(|| {
                            StoreError::Corrupt(format!("数据库中有未知职务 {role}"))
                        })?,
                        months_in_post: months as u8,
                        sanctioned: sanctioned != 0,
                        base_pay: base_pay.map(Fen::from_fen),
                        appraisal,
                    })
                },
            )
            .collect::<Result<Vec<Cadre>, StoreError>>()
            .map(|mut cadres| {
                // Byte order, whatever the server's collation (pages look villages up by it).
                cadres.sort_by(|a, b| (&a.village, &a.person).cmp(&(&b.village, &b.person)));
                cadres
            })
    }

    pub async fn load_grants(&self) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(
            "SELECT grant_id, village, year, level, program, amount, project, expected_rate FROM grants ORDER BY grant_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let level: String = r.try_get(3)?;
                Ok(Grant {
                    grant: r.try_get(0)?,
                    village: code(&r.try_get::<String, _>(1)?)?,
                    year: r.try_get::<i64, _>(2)? as i32,
                    level: SourceLevel::parse(&level).ok_or_else(|| {
                        StoreError::Corrupt(format!("数据库中有未知资金来源 {level}"))
                    })?,
                    program: r.try_get(4)?,
                    amount: Fen::from_fen(r.try_get(5)?),
                    project: r.try_get(6)?,
                    expected_rate: r.try_get::<Option<i64>, _>(7)?.map(Ppm::from_ppm),
                })
            })
            .collect()
    }

    pub async fn load_project_actuals(
        &self,
        year: i32,
    ) -> Result<BTreeMap<String, Fen>, StoreError> {
        let rows = sqlx::query("SELECT project, amount FROM project_totals WHERE year = $1")
            .bind(year)
            .fetch_all(&self.pool)
            .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            out.insert(r.try_get::<String, _>(0)?, Fen::from_fen(r.try_get(1)?));
        }
        Ok(out)
    }

    /// The year's entry facts of every village, parsed when a village's report asks (a province's
    /// year is millions of entries, a county's page a few thousand): on SQLite stepped natively
    /// (`sqlite_read`; 74 MB for a province), on PostgreSQL as one value the database joins
    /// (`pg_read`). The web reads these, as one load serves every policy there.
    pub async fn load_entry_facts(&self, year: i32) -> Result<crate::facts::YearFacts, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let facts = crate::backend::Kept::Facts;
        let rows = crate::backend::reads::kept(&mut conn, self.backend, facts, year).await?;
        let mut villages =
            crate::fast_hash::FastMap::with_capacity_and_hasher(rows.len(), Default::default());
        for (village, facts) in rows {
            villages.insert(code_of_number(village)?, facts);
        }
        Ok(crate::facts::YearFacts {
            year,
            villages,
            sums: None,
        })
    }

    /// What the alerts under `settings` read of the year's entries: every village's kept sums, and
    /// the facts of the villages whose sums cannot settle an alert (`EntrySums::needs_entries`).
    /// Hebei 2024 under its policy: 1,544 villages' facts of 48,379, instead of 74 MB of them.
    pub async fn load_entry_facts_for(
        &self,
        year: i32,
        settings: &cunji_core::alerts::AlertSettings,
    ) -> Result<crate::facts::YearFacts, StoreError> {
        // One connection for both reads, which follow each other.
        let mut conn = self.pool.acquire().await?;
        let (sums, missing) = crate::entry_sums::read(&mut conn, self.backend, year).await?;
        let read = crate::entry_sums::villages_to_read(&sums, missing, settings);
        let sql = crate::facts::facts_of_villages(self.backend);
        let mut villages =
            crate::fast_hash::FastMap::with_capacity_and_hasher(read.len(), Default::default());
        for part in read.chunks(crate::facts::VILLAGES_PER_STATEMENT) {
            let names = serde_json::to_string(part).expect("plain strings");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(year)
                .bind(names)
                .fetch_all(&mut *conn)
                .await?;
            for r in rows {
                villages.insert(code(&r.try_get::<String, _>(0)?)?, r.try_get(1)?);
            }
        }
        Ok(crate::facts::YearFacts {
            year,
            villages,
            sums: Some(sums),
        })
    }

    pub async fn load_stats(&self) -> Result<cunji_core::pay_floor::RuralIncome, StoreError> {
        let rows = sqlx::query("SELECT region, year, rural_income FROM stats")
            .fetch_all(&self.pool)
            .await?;
        let mut out = cunji_core::pay_floor::RuralIncome::new();
        for r in rows {
            out.insert(
                (
                    code(&r.try_get::<String, _>(0)?)?,
                    r.try_get::<i64, _>(1)? as i32,
                ),
                Fen::from_fen(r.try_get(2)?),
            );
        }
        Ok(out)
    }

    pub async fn load_closed_years(&self) -> Result<BTreeSet<(String, i32)>, StoreError> {
        let rows = sqlx::query("SELECT village, year FROM closed_years")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)? as i32)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// How many villages closed each year, by year (for the year views open on).
    pub async fn closed_counts(&self) -> Result<Vec<(i32, usize)>, StoreError> {
        let rows =
            sqlx::query("SELECT year, COUNT(*) FROM closed_years GROUP BY year ORDER BY year")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                let (y, n): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
                Ok((y as i32, n.max(0) as usize))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Everything a report of `year` needs.
    pub async fn load_for_report(&self, year: i32) -> Result<LoadedData, StoreError> {
        self.load_for_report_from(year, i32::MIN, None).await
    }

    /// What a report of `year` reads, with the kept totals of `first_year` and after only (the
    /// policy's `first_year_read`), and with `alerts`, the entries only as those alerts read them
    /// (`load_entry_facts_for`). The web keeps reading every year and every entry, as one load
    /// serves every policy there.
    pub async fn load_for_report_from(
        &self,
        year: i32,
        first_year: i32,
        alerts: Option<&cunji_core::alerts::AlertSettings>,
    ) -> Result<LoadedData, StoreError> {
        self.load_parts(year, first_year, alerts, true).await
    }

    /// What a report of `year` under `policy` reads (`today`: the report date of a running year),
    /// with the year's contract figures as kept when they still hold, the contracts then not read
    /// at all; when they do not, the contracts are judged once here and the figures kept for the
    /// next report (see `kept_contracts`). A store that cannot write (a read-only replica) only
    /// judges them again each time.
    pub async fn load_for_report_under(
        &self,
        policy: &cunji_core::policy::Policy,
        year: i32,
        today: Option<cunji_core::date::Date>,
    ) -> Result<LoadedData, StoreError> {
        use cunji_core::report::{contract_years, ContractYears};
        let first_year = policy.first_year_read(year);
        let alerts = Some(&policy.alerts);
        if !ContractYears::keepable(year, today) {
            return self.load_parts(year, first_year, alerts, true).await;
        }
        // Read before anything else, so that a write during the load is seen as one.
        let head = self.audit_head().await?.0;
        let at = cunji_core::contracts::report_date(year, today);
        // The kept figures read beside the rest; the contracts only when they do not hold.
        let (kept, data) = tokio::join!(
            self.kept_contract_years(year, at, &policy.contracts, head),
            self.load_parts(year, first_year, alerts, false)
        );
        let (kept, mut data) = (kept?, data?);
        if kept.is_some() {
            data.kept_contracts = kept;
            return Ok(data);
        }
        data.contracts = self.load_contracts().await?;
        let t = crate::timing::Timer::start();
        // An error here is the report's own, which building it will give.
        if let Ok(years) = contract_years(&policy.contracts, &data.input(year, None, today)) {
            t.lap("contracts judged");
            if let Err(e) = self.keep_contract_years(&years, head).await {
                log::warn!("kept contract figures of {year} not written: {e}");
            }
            t.lap("contracts kept");
            data.kept_contracts = Some(years);
        }
        Ok(data)
    }

    /// What judging the contracts of `year` reads, and nothing else: the contracts, the grants and
    /// the projects' returns (`check` compares the kept figures with these; the entries and totals
    /// a report also reads are most of a province's load and play no part).
    pub(crate) async fn load_for_contracts(&self, year: i32) -> Result<LoadedData, StoreError> {
        let (grants, project_actuals, contracts) = tokio::join!(
            self.load_grants(),
            self.load_project_actuals(year),
            self.load_contracts()
        );
        Ok(LoadedData {
            regions: Default::default(),
            books: Default::default(),
            cadres: Vec::new(),
            grants: grants?,
            project_actuals: project_actuals?,
            stats: Default::default(),
            entries: crate::facts::YearFacts::none(year),
            distributions: Default::default(),
            contracts: contracts?,
            kept_contracts: None,
        })
    }

    async fn load_parts(
        &self,
        year: i32,
        first_year: i32,
        alerts: Option<&cunji_core::alerts::AlertSettings>,
        with_contracts: bool,
    ) -> Result<LoadedData, StoreError> {
        // Independent reads on separate connections and threads: decoding rows is most of the
        // work, and the entry facts alone are as much as the rest.
        let t = crate::timing::Timer::start();
        use crate::timing::timed;
        let store = self.clone();
        let alerts = alerts.cloned();
        let facts = tokio::spawn(async move {
            let facts = async {
                match &alerts {
                    Some(settings) => store.load_entry_facts_for(year, settings).await,
                    None => store.load_entry_facts(year).await,
                }
            };
            timed("entry facts", facts).await
        });
        let store = self.clone();
        let books =
            tokio::spawn(
                async move { timed("kept totals", store.load_books_from(first_year)).await },
            );
        let (regions, cadres, grants, project_actuals, stats, distributions, contracts) = tokio::join!(
            timed("regions", self.load_regions()),
            timed("cadres", self.load_cadres(year)),
            timed("grants", self.load_grants()),
            timed("project returns", self.load_project_actuals(year)),
            timed("stats", self.load_stats()),
            timed("distributions", self.distributions_of_year(year)),
            timed("contracts", async {
                if with_contracts {
                    self.load_contracts().await
                } else {
                    Ok(Default::default())
                }
            }),
        );
        let joined = |e: tokio::task::JoinError| StoreError::Corrupt(format!("读取任务异常：{e}"));
        let entries = facts.await.map_err(joined)??;
        let books = books.await.map_err(joined)?;
        let (regions, books, cadres, grants, project_actuals, stats) =
            (regions?, books?, cadres?, grants?, project_actuals?, stats?);
        t.lap("load everything");
        Ok(LoadedData {
            regions,
            books,
            cadres,
            grants,
            project_actuals,
            stats,
            entries,
            distributions: distributions?,
            contracts: contracts?,
            kept_contracts: None,
        })
    }
}

/// One kept total: a village's year on one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotalRow {
    pub village: RegionCode,
    pub year: i32,
    pub account: Account,
    pub amount: Fen,
    pub entries: i64,
}

impl Store {
    /// Every kept total, by village, year and account.
    pub async fn all_totals(&self) -> Result<Vec<TotalRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT village, year, account, amount, entries FROM totals ORDER BY village, year, account",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let account: String = r.try_get(2)?;
                Ok(TotalRow {
                    village: code(&r.try_get::<String, _>(0)?)?,
                    year: r.try_get::<i64, _>(1)? as i32,
                    account: Account::from_key_or_name(&account).ok_or_else(|| {
                        StoreError::Corrupt(format!("数据库中有未知科目 {account}"))
                    })?,
                    amount: Fen::from_fen(r.try_get(3)?),
                    entries: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The latest year that has any books.
    pub async fn latest_year(&self) -> Result<Option<i32>, StoreError> {
        let row = sqlx::query("SELECT MAX(year) FROM entry_facts")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(|y| y as i32))
    }

    /// The years that have any books, oldest first.
    pub async fn years(&self) -> Result<Vec<i32>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT year FROM entry_facts ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        years_of(&rows)
    }
}

/// The years in the first column of `rows`.
pub(crate) fn years_of(rows: &[sqlx::any::AnyRow]) -> Result<Vec<i32>, StoreError> {
    rows.iter()
        .map(|r| Ok(r.try_get::<i64, _>(0)? as i32))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

impl Store {
    /// Every year's row of one person, in year order.
    pub async fn cadre_history(&self, person: &str) -> Result<Vec<Cadre>, StoreError> {
        let rows = sqlx::query(
            "SELECT village, year, person, name, role, months_in_post, sanctioned, base_pay, appraisal \
             FROM cadres WHERE person = $1 ORDER BY year, village",
        )
        .bind(person)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(cadre_of).collect()
    }
}
