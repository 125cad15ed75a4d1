//! What every handler shares: the store, the login rate limiter, the public address, and the way a page
//! asks the core for a report.

use std::sync::Arc;
use std::time::Duration;

use cunji_core::policy::{Policy, PolicyError};
use cunji_core::region::RegionCode;
use cunji_core::report::{build_report, Report};
use cunji_store::{LoadedData, Store, StoredPolicy};

use crate::html::WebError;
use crate::identity::RateLimiter;

tokio::task_local! {
    /// The data version a reading request has seen, so its page reads one version throughout and asks
    /// the database once (a dashboard needs the version for its years, policy and data).
    static REQUEST_VERSION: std::cell::Cell<Option<i64>>;
}

/// Runs a reading request (GET, HEAD) with its own remembered data version. Writing requests always
/// ask the database, so what they read after writing is what they wrote.
pub async fn one_version_per_read(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD {
        REQUEST_VERSION
            .scope(std::cell::Cell::new(None), next.run(req))
            .await
    } else {
        next.run(req).await
    }
}

/// What was last loaded for a year, and the data version it was loaded at; least recently used first.
type Cached = std::collections::VecDeque<(i32, i64, Arc<LoadedData>)>;

/// Years' data kept in memory at once. A county's pages ask for the latest year and the few before
/// it; a request for any other year evicts the one least recently used instead of growing the cache
/// (any `?year=` built and kept a year's data forever).
const YEARS_KEPT: usize = 6;

/// The years a database can hold data for: entry dates are years 1900–2999 (SPEC §1 as read by
/// `Date::parse`). Any other `?year=` is refused before anything is read or built.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A report already built: for which data (the very load, so new data never meets an old report),
/// policy, year, region and day.
struct BuiltReport {
    data: Arc<LoadedData>,
    policy: Policy,
    year: i32,
    scope: Option<RegionCode>,
    today: String,
    report: Arc<Report>,
}

/// The years with books, at a data version.
type VersionedYears = (i64, Vec<i32>);

/// The stored policies, each parsed (or why it does not parse), at a data version: storing a policy
/// writes an audit row, so the version moves with them.
type VersionedPolicies = (i64, Arc<Vec<(StoredPolicy, Result<Policy, PolicyError>)>>);
type VersionedRegions = (i64, Arc<cunji_core::region::RegionSet>);

/// Parts of pages worked out from the books as they stood at one data version (see
/// [`AppState::memo`]), by the part's key.
#[derive(Default)]
struct Memos {
    version: i64,
    parts: std::collections::HashMap<String, Arc<dyn std::any::Any + Send + Sync>>,
}

/// Page parts kept for one data version at most; past it, parts are made again on each view. The
/// largest part is a village page's 1,000 latest entries (about 400 KB as their views), so the
/// memo holds about 50 MB at most; a county's forecast or overpaid list is a few KB.
const MEMOS_KEPT: usize = 128;

/// Reports kept: a county's pages ask for the same few (the year, and the bands of each year).
const REPORTS_KEPT: usize = 64;

/// Password hashes computed at once, bounded: argon2id takes 19 MiB a hash, so the bound is also a
/// bound on memory (one hash per core, each in working memory kept for it: about 40 MiB on two
/// cores, however many logins arrive). A login waits up to `wait` for a permit, then is refused
/// with 503.
pub struct Hashing {
    permits: tokio::sync::Semaphore,
    wait: Duration,
    /// Working memory of hashes not running now; at most one per permit is ever made.
    memory: std::sync::Mutex<Vec<crate::identity::HashMemory>>,
    /// Hashes running now and the most ever seen at once (for tests of the bound).
    running: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

/// A permit to hash, with the working memory to hash in; counts the hash as running while held.
pub struct HashPermit<'a> {
    _permit: tokio::sync::SemaphorePermit<'a>,
    hashing: &'a Hashing,
    memory: Option<crate::identity::HashMemory>,
}

impl Drop for HashPermit<'_> {
    fn drop(&mut self) {
        if let Some(m) = self.memory.take() {
            self.hashing
                .memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(m);
        }
        self.hashing
            .running
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl HashPermit<'_> {
    /// Runs `f` with the working memory on a blocking thread (hashing takes tens of milliseconds).
    pub async fn run<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut crate::identity::HashMemory) -> T + Send + 'static,
    ) -> Option<T> {
        let mut memory = self.memory.take().unwrap_or_default();
        let (out, memory) = tokio::task::spawn_blocking(move || {
            let out = f(&mut memory);
            (out, memory)
        })
        .await
        .ok()?;
        self.memory = Some(memory);
        Some(out)
    }
}

impl Hashing {
    pub fn new(at_once: usize, wait: Duration) -> Hashing {
        Hashing {
            permits: tokio::sync::Semaphore::new(at_once.max(1)),
            wait,
            memory: Default::default(),
            running: Default::default(),
            peak: Default::default(),
        }
    }

    /// A permit, or `None` when none came free within the wait.
    pub async fn permit(&self) -> Option<HashPermit<'_>> {
        let permit = tokio::time::timeout(self.wait, self.permits.acquire())
            .await
            .ok()?
            .ok()?;
        count_in(&self.running, &self.peak);
        let memory = self.memory.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Some(HashPermit {
            _permit: permit,
            hashing: self,
            memory,
        })
    }

    /// The most hashes that ran at once since the server started.
    pub fn peak(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Working memories made so far (at most one per permit).
    pub fn memories(&self) -> usize {
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The bound on CPU-heavy work at once, and the most that ran at once.
pub struct Work {
    permits: Arc<tokio::sync::Semaphore>,
    running: Arc<std::sync::atomic::AtomicUsize>,
    peak: Arc<std::sync::atomic::AtomicUsize>,
}

/// A turn at heavy work: counted as running while held.
pub struct Turn {
    _permit: tokio::sync::OwnedSemaphorePermit,
    running: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.running
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Work {
    pub fn new(at_once: usize) -> Work {
        Work {
            permits: Arc::new(tokio::sync::Semaphore::new(at_once.max(1))),
            running: Arc::default(),
            peak: Arc::default(),
        }
    }

    async fn turn(&self) -> Result<Turn, WebError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| WebError::Unavailable("服务器正在停止".into()))?;
        count_in(&self.running, &self.peak);
        Ok(Turn {
            _permit: permit,
            running: self.running.clone(),
        })
    }
}

/// How long a report read waits for the read replica to catch up with the primary before reading
/// the primary itself (streaming replication on one site lags by milliseconds; a replica minutes
/// behind must not hold every page up).
const REPLICA_WAIT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct AppState {
    /// Reached through a signed-in user (`User::store`), the public pages' reads
    /// ([`AppState::public_reads`]) or, for signing in and health alone, `session_store`: never
    /// directly by a handler (issue #34: a handler that forgets the check must not compile).
    store: Store,
    cache: Arc<std::sync::Mutex<Cached>>,
    /// CPU-heavy work (report builds, reading a year's books, imports, workbooks) running at once:
    /// each runs on a blocking thread, never on the two async workers, so that `/healthz` and the
    /// public pages keep answering meanwhile (issue #32: an import of a million rows once stalled
    /// every request for its whole run); the bound (the machine's cores) keeps many such requests
    /// from taking every blocking thread and every core.
    work: Arc<Work>,
    reports: Arc<std::sync::Mutex<std::collections::VecDeque<BuiltReport>>>,
    /// The years with books, and the data version they were read at.
    years: Arc<std::sync::Mutex<Option<VersionedYears>>>,
    policies: Arc<std::sync::Mutex<Option<VersionedPolicies>>>,
    /// Page parts of the current data version (`memo`).
    memos: Arc<std::sync::Mutex<Memos>>,
    /// The region register, for the public pages (half a million rows on a national database).
    regions: Arc<std::sync::Mutex<Option<VersionedRegions>>>,
    /// Held while a year's data or the register is read from the database: requests arriving
    /// meanwhile wait for that read instead of making their own (after new data, 64 requests would
    /// otherwise load a national year 64 times over, 3 GiB each).
    loading: Arc<tokio::sync::Mutex<()>>,
    /// Years' data read from the database so far (for tests and diagnostics).
    loads: Arc<std::sync::atomic::AtomicU64>,
    /// A PostgreSQL read replica (`serve --read-db`) that years' data is read from once it has every
    /// write the primary had when the request began; the primary otherwise.
    replica: Option<Store>,
    /// Years' data read from the replica (the rest of `loads` came from the primary).
    replica_loads: Arc<std::sync::atomic::AtomicU64>,
    pub limiter: Arc<RateLimiter>,
    /// The key the login form's CSRF cookie is signed with.
    pub login_key: Arc<crate::identity::LoginKey>,
    /// Permits to hash a password, one per core.
    pub hashing: Arc<Hashing>,
    /// The address printed in QR codes (`https://cunji.example.gov.cn`); without it, the request's Host.
    pub public_url: Option<String>,
    /// What SQLite's check of the file found when the server started (`check_file_in_background`);
    /// `/healthz` reports it.
    pub damage: Arc<std::sync::Mutex<Option<String>>>,
}

impl AppState {
    /// The store for a user whose session was checked (`identity::Checked` is made only there).
    pub fn store_checked(&self, _checked: &crate::identity::Checked) -> &Store {
        &self.store
    }

    /// The store for signing in and out, the session lookup, `/healthz` and shutdown: what runs
    /// before there is a user. Handlers of pages and the API use `User::store` or `public_reads`.
    pub(crate) fn session_store(&self) -> &Store {
        &self.store
    }

    /// What the villagers' pages may read: published proposals and distributions, contracts, and
    /// nothing that writes.
    pub fn public_reads(&self) -> PublicReads<'_> {
        PublicReads(&self.store)
    }

    /// The data version (the newest audit row): remembered for the rest of a reading request.
    pub async fn version(&self) -> Result<i64, cunji_store::StoreError> {
        if let Ok(Some(v)) = REQUEST_VERSION.try_with(|c| c.get()) {
            return Ok(v);
        }
        let v = self.store.data_version().await?;
        let _ = REQUEST_VERSION.try_with(|c| c.set(Some(v)));
        Ok(v)
    }

    pub fn new(store: Store, public_url: Option<String>) -> AppState {
        AppState {
            damage: Arc::default(),
            store,
            cache: Arc::new(std::sync::Mutex::new(Cached::new())),
            work: Arc::new(Work::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            reports: Arc::default(),
            years: Arc::default(),
            policies: Arc::default(),
            memos: Arc::default(),
            regions: Arc::default(),
            loading: Arc::default(),
            loads: Arc::default(),
            replica: None,
            replica_loads: Arc::default(),
            login_key: Arc::new(crate::identity::LoginKey::random()),
            limiter: Arc::new(RateLimiter::new(5, Duration::from_secs(15 * 60))),
            hashing: Arc::new(Hashing::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
                Duration::from_secs(5),
            )),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
        }
    }

    /// A part of a page as `make` works it out from the books, kept until the next write: every
    /// write appends an audit row and so moves the data version, which empties the memo. Under 64
    /// clients a county's dashboard read each settled reward's whole record again per view (the
    /// overpaid check, 15% of the server's time on the demo) and judged every contract's forecast.
    /// `key` names the part and everything it depends on besides the books (region, year, policy,
    /// day); the part must not depend on who asks beyond the region their scope was checked for.
    pub async fn memo<T, F>(&self, key: String, make: F) -> Result<T, WebError>
    where
        T: Clone + Send + Sync + 'static,
        F: std::future::Future<Output = Result<T, WebError>>,
    {
        let version = self.version().await.map_err(WebError::from)?;
        let kept = {
            let memos = self.memos.lock().unwrap_or_else(|e| e.into_inner());
            (memos.version == version)
                .then(|| memos.parts.get(&key).cloned())
                .flatten()
        };
        if let Some(part) = kept.and_then(|p| p.downcast::<T>().ok()) {
            return Ok((*part).clone());
        }
        let made = make.await?;
        let mut memos = self.memos.lock().unwrap_or_else(|e| e.into_inner());
        if memos.version != version {
            // Parts of an older version are dropped; a request still on an older version (it began
            // before a write) keeps its part to itself.
            if memos.version > version {
                return Ok(made);
            }
            *memos = Memos {
                version,
                parts: Default::default(),
            };
        }
        if memos.parts.len() < MEMOS_KEPT {
            memos.parts.insert(key, Arc::new(made.clone()));
        }
        Ok(made)
    }

    /// The stored policy by id, or the active one.
    pub async fn policy(&self, id: Option<i64>) -> Result<(StoredPolicy, Policy), WebError> {
        let all = self.parsed_policies().await?;
        let chosen = match id {
            Some(id) => all.iter().find(|p| p.0.id == id),
            None => all.iter().rev().find(|p| p.0.active),
        };
        let (stored, parsed) = chosen.ok_or_else(|| {
            WebError::NotFound("尚未设置政策：请县级管理员在“政策”页导入政策文件".into())
        })?;
        let policy = parsed
            .clone()
            .map_err(|e| WebError::Invalid(format!("政策 #{} 有误：{e}", stored.id)))?;
        Ok((stored.clone(), policy))
    }

    /// Every stored policy, in the store's order, from the list kept per data version.
    pub async fn stored_policies(&self) -> Result<Vec<StoredPolicy>, WebError> {
        Ok(self
            .parsed_policies()
            .await?
            .iter()
            .map(|(p, _)| p.clone())
            .collect())
    }

    async fn parsed_policies(
        &self,
    ) -> Result<Arc<Vec<(StoredPolicy, Result<Policy, PolicyError>)>>, WebError> {
        let version = self.version().await?;
        if let Some((v, all)) = &*self.policies.lock().unwrap_or_else(|e| e.into_inner()) {
            if *v == version {
                return Ok(all.clone());
            }
        }
        let all: Vec<_> = self
            .store
            .policies()
            .await?
            .into_iter()
            .map(|p| {
                let parsed = Policy::parse(&p.source);
                (p, parsed)
            })
            .collect();
        let all = Arc::new(all);
        *self.policies.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, all.clone()));
        Ok(all)
    }

    /// How many times a year's data was read from the database.
    pub fn data_loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads the latest year's data ahead of the first request (a province's takes seconds).
    pub fn warm_up(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let year = state.latest_year().await;
            let _ = state.data(year).await;
        });
    }

    /// The region register, read again only when something was written since.
    pub async fn regions(
        &self,
    ) -> Result<Arc<cunji_core::region::RegionSet>, cunji_store::StoreError> {
        let version = self.version().await?;
        let cached = || {
            self.regions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .filter(|(v, _)| *v == version)
                .map(|(_, r)| r.clone())
        };
        if let Some(r) = cached() {
            return Ok(r);
        }
        let _one_read = self.loading.lock().await;
        if let Some(r) = cached() {
            return Ok(r);
        }
        let regions = Arc::new(self.store.load_regions().await?);
        *self.regions.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, regions.clone()));
        Ok(regions)
    }

    /// The data a report of `year` reads, loaded again only when something was written since.
    pub async fn data(&self, year: i32) -> Result<Arc<LoadedData>, WebError> {
        if !YEARS.contains(&year) {
            return Err(WebError::NotFound(format!(
                "没有 {year} 年的账（年度应在 {}–{} 之间）",
                YEARS.start(),
                YEARS.end()
            )));
        }
        let version = self.version().await.map_err(WebError::from)?;
        let cached = || {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let at = cache
                .iter()
                .position(|(y, v, _)| *y == year && *v == version)?;
            let hit = cache.remove(at)?;
            let data = hit.2.clone();
            cache.push_back(hit);
            Some(data)
        };
        if let Some(d) = cached() {
            return Ok(d);
        }
        let _one_read = self.loading.lock().await;
        if let Some(d) = cached() {
            return Ok(d);
        }
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let data = Arc::new(self.load_year(year, version).await?);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|(_, v, _)| *v == version);
        while cache.len() >= YEARS_KEPT {
            cache.pop_front();
        }
        cache.push_back((year, version, data.clone()));
        Ok(data)
    }

    /// Report reads go to `replica` from now on (see [`AppState::load_year`]).
    pub fn with_replica(mut self, replica: Store) -> AppState {
        self.replica = Some(replica);
        self
    }

    /// Years' data read from the replica so far.
    pub fn replica_loads(&self) -> u64 {
        self.replica_loads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads a year's data for the primary's `version`: from the replica once it has replayed that
    /// far (every write appends an audit row in its own transaction, so the replica's newest audit
    /// row at or past `version` means it holds every write the request could know of); after
    /// `REPLICA_WAIT` of lag, or if the replica fails, from the primary. A report is thus never older
    /// than the request's own view of the books, and a reward computed on it never stale.
    async fn load_year(&self, year: i32, version: i64) -> Result<LoadedData, WebError> {
        if let Some(replica) = &self.replica {
            let started = std::time::Instant::now();
            loop {
                match replica.data_version().await {
                    Ok(v) if v >= version => match self.load_off_workers(replica, year).await? {
                        Ok(data) => {
                            self.replica_loads
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return Ok(data);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "read replica failed; reading the primary");
                            break;
                        }
                    },
                    Ok(v) if started.elapsed() < REPLICA_WAIT => {
                        tracing::debug!(replica = v, primary = version, "read replica behind");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Ok(v) => {
                        tracing::warn!(
                            replica = v,
                            primary = version,
                            "read replica behind; reading the primary"
                        );
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "read replica failed; reading the primary");
                        break;
                    }
                }
            }
        }
        Ok(self.load_off_workers(&self.store, year).await??)
    }

    /// A year's books read from `store` on a blocking thread: decoding a province's rows takes
    /// seconds of CPU.
    async fn load_off_workers(
        &self,
        store: &Store,
        year: i32,
    ) -> Result<Result<LoadedData, cunji_store::StoreError>, WebError> {
        let store = store.clone();
        self.off_workers(async move { store.load_for_report(year).await })
            .await
    }

    /// Runs `f` on a blocking thread once one of the `work` permits is free (see [`Work`]).
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WebError> {
        let turn = self.work.turn().await?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            f()
        })
        .await
        .map_err(|e| WebError::internal("blocking work", &e))
    }

    /// Runs `work` (an import, a read of a year's books: futures that await the database between
    /// long stretches of CPU) on a blocking thread once a `work` permit is free, driving it there
    /// with the runtime's handle, so that its CPU never holds an async worker. Dropping the returned
    /// future (a request past its time limit, a closed connection) drops `work` at its next await:
    /// an import's transaction then rolls back, as it did when it ran on the request's own task.
    pub async fn off_workers<F>(&self, work: F) -> Result<F::Output, WebError>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let turn = self.work.turn().await?;
        let handle = tokio::runtime::Handle::current();
        let (_cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            handle.block_on(async move {
                tokio::select! {
                    out = work => Some(out),
                    _ = cancelled => None,
                }
            })
        })
        .await
        .map_err(|e| WebError::internal("blocking work", &e))?
        .ok_or_else(|| WebError::Unavailable("服务器正在停止".into()))
    }

    /// The most pieces of heavy work that ran at once since the server started (for tests of the bound).
    pub fn work_peak(&self) -> usize {
        self.work.peak.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Years' data held in memory now (for tests of the bound).
    pub fn years_cached(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The report of a year under a policy, for a region; built once per data load, policy, year,
    /// region and day, since every page of a county asks for the same few. Built on a blocking
    /// thread (at most one per core at once): a village of a million entries takes seconds.
    pub async fn report(
        &self,
        policy: &Policy,
        data: &Arc<LoadedData>,
        year: i32,
        scope: Option<&RegionCode>,
    ) -> Result<Arc<Report>, WebError> {
        let today = crate::today();
        let same = |b: &BuiltReport| {
            Arc::ptr_eq(&b.data, data)
                && b.year == year
                && b.scope.as_ref() == scope
                && b.today == today
                && b.policy == *policy
        };
        let kept = || {
            self.reports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|b| same(b))
                .map(|b| b.report.clone())
        };
        if let Some(r) = kept() {
            return Ok(r);
        }
        let (p, d, sc, t) = (policy.clone(), data.clone(), scope.cloned(), today.clone());
        let reports = self.reports.clone();
        let (d2, p2, sc2, t2) = (data.clone(), policy.clone(), scope.cloned(), today.clone());
        let built = self
            .blocking(move || {
                // Another request may have built it while this one waited for its turn.
                let kept = reports
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .find(|b| {
                        Arc::ptr_eq(&b.data, &d2)
                            && b.year == year
                            && b.scope == sc2
                            && b.today == t2
                            && b.policy == p2
                    })
                    .map(|b| b.report.clone());
                if let Some(r) = kept {
                    return Ok(r);
                }
                let day = cunji_core::date::Date::parse(&t).ok();
                build_report(&p, &d.input(year, sc.as_ref(), day)).map(Arc::new)
            })
            .await?;
        let report = built.map_err(|e| WebError::Invalid(e.to_string()))?;
        if let Some(r) = kept() {
            return Ok(r);
        }
        let mut kept = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|b| Arc::strong_count(&b.data) > 1 || Arc::ptr_eq(&b.data, data));
        if kept.len() >= REPORTS_KEPT {
            kept.pop_front();
        }
        kept.push_back(BuiltReport {
            data: data.clone(),
            policy: policy.clone(),
            year,
            scope: scope.cloned(),
            today,
            report: report.clone(),
        });
        Ok(report)
    }

    /// The years that have books, oldest first (read again only when something was written).
    pub async fn years(&self) -> Result<Vec<i32>, cunji_store::StoreError> {
        let version = self.version().await?;
        if let Some((v, years)) = &*self.years.lock().unwrap_or_else(|e| e.into_inner()) {
            if *v == version {
                return Ok(years.clone());
            }
        }
        let years = self.store.years().await?;
        *self.years.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, years.clone()));
        Ok(years)
    }

    /// The year a region's views open on when none is asked (`cunji_core::books::opening_year`: the
    /// latest year most villages reported or closed), and the latest year after it with books, as
    /// (year, villages reported or closed, villages): January's first entries of a new year do not
    /// move the county's views to a year with nearly every village missing. A year counts a village
    /// as reported when it has books of its own, or closed it (the larger of the two counts: a
    /// closed year almost always has books, and counting both exactly would read every closing).
    pub async fn opening_year(&self) -> Result<(i32, Option<(i32, usize, usize)>), WebError> {
        let years = self.years().await?;
        let Some(&latest) = years.last() else {
            return Ok((2024, None));
        };
        let data = self.data(latest).await?;
        let villages: Vec<&cunji_core::region::RegionCode> = data
            .regions
            .iter()
            .filter(|r| r.level() == cunji_core::region::Level::Village)
            .map(|r| &r.code)
            .collect();
        let closed = self.store.closed_counts().await?;
        let counts: Vec<(i32, usize)> = years
            .iter()
            .map(|&y| {
                let own = villages
                    .iter()
                    .filter(|v| data.books.has_own_data(v, y))
                    .count();
                let shut = closed.iter().find(|(c, _)| *c == y).map_or(0, |c| c.1);
                (y, own.max(shut))
            })
            .collect();
        let year = cunji_core::books::opening_year(&counts, villages.len()).unwrap_or(latest);
        let later = counts
            .iter()
            .rev()
            .find(|(y, n)| *y > year && *n > 0)
            .map(|(y, n)| (*y, *n, villages.len()));
        Ok((year, later))
    }

    /// The latest year with books, for default views.
    pub async fn latest_year(&self) -> i32 {
        self.years()
            .await
            .ok()
            .and_then(|y| y.last().copied())
            .unwrap_or(2024)
    }
}

/// The reads the public pages make (SPEC §15): a handle with no writes and no users, sessions or
/// audit log, so that a public handler cannot reach them.
pub struct PublicReads<'a>(&'a Store);

impl PublicReads<'_> {
    /// The county's supervision phone, printed on every public page and notice.
    pub async fn supervision_phone(&self) -> Result<Option<String>, cunji_store::StoreError> {
        self.0
            .setting(cunji_store::settings::SUPERVISION_PHONE)
            .await
    }

    /// The fingerprint of the figures a village's published reward rests on (§15: whether they
    /// changed since publication).
    pub async fn figures_fingerprint(
        &self,
        villages: &[String],
    ) -> Result<String, cunji_store::StoreError> {
        self.0.figures_fingerprint(villages).await
    }

    pub async fn published_years(
        &self,
        village: &str,
    ) -> Result<Vec<i32>, cunji_store::StoreError> {
        self.0.published_years(village).await
    }

    pub async fn proposal(
        &self,
        village: &str,
        year: i32,
    ) -> Result<Option<cunji_store::Proposal>, cunji_store::StoreError> {
        self.0.proposal(village, year).await
    }

    pub async fn distributions(
        &self,
        villages: &[String],
    ) -> Result<
        std::collections::BTreeMap<(String, i32), cunji_core::statement_book::Distribution>,
        cunji_store::StoreError,
    > {
        self.0.distributions(villages).await
    }

    pub async fn load_contracts_within(
        &self,
        prefix: &str,
    ) -> Result<cunji_core::contracts::ContractBook, cunji_store::StoreError> {
        self.0.load_contracts_within(prefix).await
    }

    pub async fn village_contracts(
        &self,
        village: &cunji_core::region::RegionCode,
        year: i32,
        at: cunji_core::date::Date,
    ) -> Result<Vec<cunji_store::ContractLine>, cunji_store::StoreError> {
        self.0.village_contracts(village, year, at).await
    }
}

impl crate::identity::User {
    /// The store, for a signed-in user. Which villages they may read or write is still theirs to
    /// check with `require_read`/`require_write`, or to receive already checked from
    /// `scope::InVillage`, which most handlers of one village take.
    pub fn store<'a>(&self, state: &'a AppState) -> &'a Store {
        state.store_checked(self.checked())
    }
}

/// One more running: the count raised and the peak kept (for `/healthz` and the tests' bounds).
fn count_in(running: &std::sync::atomic::AtomicUsize, peak: &std::sync::atomic::AtomicUsize) {
    use std::sync::atomic::Ordering::SeqCst;
    let now = running.fetch_add(1, SeqCst) + 1;
    peak.fetch_max(now, SeqCst);
}
