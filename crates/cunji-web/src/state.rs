//! What every handler shares: the store, the login rate limiter, the public address, and the way a page
//! asks the core for a report.

use std::sync::Arc;
use std::time::Duration;

use cunji_core::policy::Policy;
use cunji_core::region::RegionCode;
use cunji_core::report::{build_report, Report, ReportInput};
use cunji_store::{LoadedData, Store, StoredPolicy};

use crate::auth::RateLimiter;

/// What was last loaded for a year, and the data version it was loaded at.
type Cached = std::collections::HashMap<i32, (i64, Arc<LoadedData>)>;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    cache: Arc<std::sync::Mutex<Cached>>,
    pub limiter: Arc<RateLimiter>,
    /// The address printed in QR codes (`https://cunji.example.gov.cn`); without it, the request's Host.
    pub public_url: Option<String>,
}

impl AppState {
    pub fn new(store: Store, public_url: Option<String>) -> AppState {
        AppState {
            store,
            cache: Arc::new(std::sync::Mutex::new(Cached::new())),
            limiter: Arc::new(RateLimiter::new(5, Duration::from_secs(15 * 60))),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
        }
    }

    /// The stored policy by id, or the active one.
    pub async fn policy(&self, id: Option<i64>) -> Result<(StoredPolicy, Policy), String> {
        let all = self.store.policies().await.map_err(|e| e.to_string())?;
        let chosen = match id {
            Some(id) => all.into_iter().find(|p| p.id == id),
            None => all.into_iter().rev().find(|p| p.active),
        };
        let stored =
            chosen.ok_or_else(|| "尚未设置政策：请县级管理员在“政策”页导入政策文件".to_string())?;
        let policy =
            Policy::parse(&stored.source).map_err(|e| format!("政策 #{} 有误：{e}", stored.id))?;
        Ok((stored, policy))
    }

    /// The data a report of `year` reads, loaded again only when something was written since.
    pub async fn data(&self, year: i32) -> Result<Arc<LoadedData>, String> {
        let version = self.store.data_version().await.map_err(|e| e.to_string())?;
        if let Some((v, d)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&year)
        {
            if *v == version {
                return Ok(d.clone());
            }
        }
        let data = Arc::new(
            self.store
                .load_for_report(year)
                .await
                .map_err(|e| e.to_string())?,
        );
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, (v, _)| *v == version);
        cache.insert(year, (version, data.clone()));
        Ok(data)
    }

    /// The report of a year under a policy, for a region.
    pub fn report(
        &self,
        policy: &Policy,
        data: &LoadedData,
        year: i32,
        scope: Option<&RegionCode>,
    ) -> Result<Report, String> {
        build_report(
            policy,
            &ReportInput {
                year,
                regions: &data.regions,
                books: &data.books,
                cadres: &data.cadres,
                grants: &data.grants,
                project_actuals: &data.project_actuals,
                stats: &data.stats,
                entries: &data.entries,
                today: cunji_core::date::Date::parse(&crate::today()).ok(),
                scope,
            },
        )
        .map_err(|e| e.to_string())
    }

    /// The latest year with books, for default views.
    pub async fn latest_year(&self) -> i32 {
        self.store
            .latest_year()
            .await
            .ok()
            .flatten()
            .unwrap_or(2024)
    }
}
