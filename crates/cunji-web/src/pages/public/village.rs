//! A village's public page (SPEC §15): its accounts by year and the latest year by quarter, every
//! grant with its returns, and each published reward with the calculation as villagers read it, its
//! fingerprint, and whether the books still agree.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use cunji_core::account::Account;
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode};

use crate::html::Shown;
use crate::html::{not_found, render, Layout, WebError};
use crate::state::AppState;

/// A person of a published reward: by name and role (never an id), with the computed share, the
/// decided and the paid amount (SPEC §15).
#[derive(Clone)]
pub struct AwardLine {
    pub name: String,
    pub role: String,
    pub computed: String,
    pub decided: String,
    pub amount: String,
}

#[derive(Clone)]
pub struct Published {
    pub year: i32,
    pub pool: String,
    /// The fingerprint of the published figures (SPEC §15).
    pub fingerprint: String,
    /// 公示期 as the `publish` step recorded it (`from 至 to`), or empty for older proposals.
    pub period: String,
    /// The figures that changed since publication: (what, as published, now), computed under the
    /// proposal's own policy version (SPEC §13, §15); empty while the books agree.
    pub changes: Vec<(String, String, String)>,
    /// Whether the books now allow less than was paid (多发, to be recovered).
    pub overpaid: bool,
    /// 发放日期: the payment date typed at `pay`, never the time it was recorded.
    pub paid: String,
    pub published: String,
    pub awards: Vec<AwardLine>,
    pub trace: Vec<String>,
}

#[derive(Template)]
#[template(path = "public_village.html")]
struct VillagePage {
    layout: Layout,
    code: String,
    name: String,
    place: String,
    years: Vec<i32>,
    accounts: Vec<(String, Vec<String>)>,
    totals: Vec<(String, Vec<String>)>,
    /// The latest year by quarter: the year, and each account's four quarters.
    quarter_year: i32,
    /// The same accounts a year to a card, for a phone (the table is shown on wider screens).
    year_cards: Vec<(i32, Vec<(String, String)>)>,
    quarters: Vec<(String, Vec<String>)>,
    grants: Vec<PublicGrant>,
    /// The distribution of each year a statement book gave (SPEC §14), the latest first: its lines
    /// that are not 0, and always what is left undistributed.
    distribution: Vec<(i32, Vec<(String, String)>)>,
    rewards: Vec<Published>,
    /// The contracts and subsidy assets of the latest year (SPEC §16), when there are any.
    contracts: Option<super::contracts::PublicContracts>,
    phone: Option<String>,
    qr: String,
    url: Option<String>,
    no_url: &'static str,
}

#[derive(Template)]
#[template(path = "public_notice.html")]
pub(super) struct NoticePage {
    pub(super) layout: Layout,
    pub(super) name: String,
    pub(super) place: String,
    pub(super) url: Option<String>,
    pub(super) qr: String,
    pub(super) no_url: &'static str,
    pub(super) latest: Option<Published>,
    pub(super) income: Vec<(String, String)>,
    pub(super) year: i32,
    pub(super) grants: Vec<PublicGrant>,
    pub(super) contracts: Option<super::contracts::PublicContracts>,
    pub(super) phone: Option<String>,
}

/// The absolute address of a village's public page, as printed in its QR code: only under the
/// address the server was started with (`--public-url`). The request's Host header is never used:
/// anyone can send any Host, and a notice printed from such a request would send villagers to the
/// sender's site.
pub(super) fn page_url(state: &AppState, code: &str) -> Option<String> {
    let base = state.public_url.as_deref()?;
    Some(format!("{base}/public/village/{code}"))
}

/// What a notice or a public page says instead of a QR code when no public address is set.
pub const NO_PUBLIC_URL_ZH: &str = "未印二维码：尚未设置村民扫码打开的网址。请系统管理员在启动服务时加上 \
     --public-url（例如 cunji serve --public-url https://cunji.example.gov.cn），见部署说明 docs/deploy.md";

/// The QR code of `url` as inline SVG, or nothing without a public address.
pub(super) fn qr_of(url: &Option<String>) -> Result<String, WebError> {
    match url {
        Some(u) => crate::qr::svg(u).map_err(|e| WebError::internal("qr svg", &e)),
        None => Ok(String::new()),
    }
}

pub(super) struct VillageData {
    pub(super) code: RegionCode,
    pub(super) name: String,
    pub(super) place: String,
    pub(super) years: Vec<i32>,
    pub(super) data: std::sync::Arc<cunji_store::LoadedData>,
    pub(super) rewards: Vec<Published>,
    /// The county's 监督电话, when set.
    pub(super) phone: Option<String>,
}

pub(super) async fn village_data(state: &AppState, code: &str) -> Result<VillageData, WebError> {
    let code = RegionCode::parse(code).map_err(|_| not_found("这个村"))?;
    let years = state.years().await?;
    let latest = years.last().copied().unwrap_or(2024);
    let data = state.data(latest).await?;
    let region = data
        .regions
        .get(&code)
        .filter(|r| r.level() == Level::Village)
        .ok_or_else(|| not_found("这个村"))?;
    let place = code
        .ancestors()
        .iter()
        .rev()
        .take(2)
        .rev()
        .filter_map(|a| data.regions.get(a))
        .map(|r| r.name.clone())
        .collect::<Vec<_>>()
        .join(" ");
    // Read again only after a write (`AppState::memo`; the day too: figures "now" are today's).
    let rewards = state
        .memo(
            format!(
                "public rewards|{code}|{}",
                cunji_core::date::Date::today_beijing().iso()
            ),
            published_rewards(state, &code),
        )
        .await?;
    let phone = state
        .public_reads()
        .supervision_phone()
        .await?
        .filter(|p| !p.is_empty());
    Ok(VillageData {
        name: region.name.clone(),
        code,
        place,
        years,
        data,
        rewards,
        phone,
    })
}

/// The village's published rewards, the latest year first, each with what changed since.
async fn published_rewards(
    state: &AppState,
    code: &RegionCode,
) -> Result<Vec<Published>, WebError> {
    let mut rewards = Vec::new();
    for y in state.public_reads().published_years(code.as_str()).await? {
        let Some(p) = state.public_reads().proposal(code.as_str(), y).await? else {
            continue;
        };
        let now = crate::steps::Now::read(state, code, y).await?;
        let (fingerprint, now_print) = fingerprints(&p, now.own.as_ref());
        let changes = if now_print == fingerprint {
            Vec::new()
        } else {
            change_rows(&p, now.own.as_ref())
        };
        rewards.push(Published {
            year: y,
            pool: p.pool.display(),
            fingerprint,
            period: notice_period(&p),
            overpaid: p.standing(now.own.as_ref()).is_overpaid(),
            changes,
            paid: p.payment_date().map(|d| d.iso()).unwrap_or_default(),
            published: p
                .published_at
                .map(crate::pages::workflow::when)
                .unwrap_or_default(),
            awards: p
                .awards
                .iter()
                .map(|a| AwardLine {
                    name: a.name.clone(),
                    role: a.role.name_zh().to_string(),
                    computed: a.computed.display(),
                    decided: a.decided.display_or_dash(),
                    amount: a.paid.or(a.decided).unwrap_or(Fen::ZERO).display(),
                })
                .collect(),
            // Told for villagers when computed (SPEC §15); a proposal computed before the story was
            // kept shows its trace without keys or ids.
            trace: if p.story.is_empty() {
                cunji_core::incentive::public::public_trace(&p.trace)
            } else {
                p.story.clone()
            },
        });
    }
    Ok(rewards)
}

pub async fn village(r: super::Reader, Path(code): Path<String>) -> Result<Response, WebError> {
    let super::Reader { state, headers } = r;
    let v = village_data(&state, &code).await?;
    // The latest year first (SPEC §15): on a phone the first column is the one read.
    let years: Vec<i32> = v
        .years
        .iter()
        .rev()
        .copied()
        .filter(|y| v.data.books.has_own_data(&v.code, *y))
        .collect();
    let mut accounts = Vec::new();
    for a in Account::ALL {
        let cells: Vec<Option<Fen>> = years
            .iter()
            .map(|y| v.data.books.own(&v.code, *y).map(|b| b.totals[a.index()]))
            .collect();
        if cells.iter().all(|c| c.unwrap_or(Fen::ZERO) == Fen::ZERO) {
            continue;
        }
        accounts.push((
            a.name_zh().to_string(),
            cells
                .iter()
                .map(|c| c.unwrap_or(Fen::ZERO).display())
                .collect(),
        ));
    }
    let standard = cunji_core::measure::Measure::standard();
    let totals: Vec<(String, Vec<String>)> = [&standard[0], &standard[1], &standard[3]]
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                years
                    .iter()
                    .map(|y| {
                        v.data
                            .books
                            .own(&v.code, *y)
                            .map(|b| m.value(&b.totals).display())
                            .unwrap_or_default()
                    })
                    .collect(),
            )
        })
        .collect();
    let grants = public_grants(&state, &v).await?;
    let quarter_year = years.first().copied().unwrap_or(0);
    let year_cards = year_cards(&years, &accounts, &totals);
    let quarters = quarters(&v, quarter_year)?;
    let url = page_url(&state, v.code.as_str());
    let distribution = state
        .memo(
            format!("public distribution|{}", v.code),
            distribution_cards(&state, &v.code),
        )
        .await?;
    let contracts = super::contracts::public_contracts(&v.code, &v.years, &v.data)?;
    let page = VillagePage {
        layout: Layout::new(format!("{} {} 村务公开", v.place, v.name), None)
            .for_reader(&headers, &format!("/public/village/{}", v.code)),
        code: v.code.to_string(),
        name: v.name,
        place: v.place,
        years,
        accounts,
        totals,
        quarter_year,
        year_cards,
        quarters,
        grants,
        distribution,
        rewards: v.rewards,
        contracts,
        phone: v.phone,
        qr: qr_of(&url)?,
        url,
        no_url: NO_PUBLIC_URL_ZH,
    };
    Ok(render(&page))
}

/// A card a year of the village's distributions, the latest year first.
async fn distribution_cards(
    state: &AppState,
    code: &RegionCode,
) -> Result<Vec<(i32, Vec<(String, String)>)>, WebError> {
    let stored = state
        .public_reads()
        .distributions(&[code.to_string()])
        .await?;
    Ok(stored
        .iter()
        .rev()
        .map(|((_, year), d)| {
            let lines = d
                .lines()
                .iter()
                .filter(|(name, v)| *v != Fen::ZERO || *name == "年末未分配收益")
                .map(|(name, v)| (name.to_string(), v.display()))
                .collect();
            (*year, lines)
        })
        .collect())
}

/// The 公示期 the `publish` step recorded.
fn notice_period(p: &cunji_store::Proposal) -> String {
    p.notice_period()
        .map(|(from, to)| format!("{} 至 {}", from.iso(), to.iso()))
        .unwrap_or_default()
}

/// The fingerprint of a published reward, and the one of the same reward on the books as they are
/// now (`now`: computed under the proposal's own policy version). A proposal computed before the
/// measure values were kept is compared by its pool alone.
fn fingerprints(
    p: &cunji_store::Proposal,
    now: Option<&cunji_core::incentive::evaluate::IncentiveResult>,
) -> (String, String) {
    use cunji_core::workflow::fingerprint::Figures;
    let people: Vec<_> = p
        .awards
        .iter()
        .map(|a| (a.name.as_str(), a.decided, a.paid))
        .collect();
    let kept = p.measure.is_some();
    let published = Figures {
        village: &p.village,
        year: p.year,
        pool: p.pool,
        measure: p.measure,
        base: p.base,
        people: people.clone(),
    };
    let current = Figures {
        pool: now.map_or(Fen::ZERO, |i| i.pool),
        measure: now.and_then(|i| i.measure).filter(|_| kept),
        base: now.and_then(|i| i.base).filter(|_| kept),
        ..published.clone()
    };
    (published.fingerprint(), current.fingerprint())
}

/// The published figures that the current books give differently, each as published and now.
pub(super) fn change_rows(
    p: &cunji_store::Proposal,
    now: Option<&cunji_core::incentive::evaluate::IncentiveResult>,
) -> Vec<(String, String, String)> {
    cunji_core::workflow::changed_figures((p.measure, p.base, p.pool), now)
        .into_iter()
        .map(|c| {
            (
                c.name.to_string(),
                c.published.display_or_dash(),
                c.now.display_or_dash(),
            )
        })
        .collect()
}

/// Each year's column of the accounts table as a card of (account, amount) rows.
fn year_cards(
    years: &[i32],
    accounts: &[(String, Vec<String>)],
    totals: &[(String, Vec<String>)],
) -> Vec<(i32, Vec<(String, String)>)> {
    years
        .iter()
        .enumerate()
        .map(|(i, y)| {
            let rows = accounts
                .iter()
                .chain(totals)
                .map(|(name, cells)| (name.clone(), cells.get(i).cloned().unwrap_or_default()))
                .collect();
            (*y, rows)
        })
        .collect()
}

/// The latest year's accounts by quarter (村务公开 at least quarterly): rows with any amount.
fn quarters(v: &VillageData, year: i32) -> Result<Vec<(String, Vec<String>)>, WebError> {
    use cunji_core::report::EntrySource;
    // The facts loaded are those of the latest year of the register's books.
    if v.years.last() != Some(&year) || v.data.books.own(&v.code, year).is_none() {
        return Ok(Vec::new());
    }
    let facts = v
        .data
        .entries
        .entries_of(&v.code)
        .map_err(|e| WebError::internal("entry facts", &e))?
        .entries
        // The web loads every village's entries whole (`load_for_report`).
        .ok_or_else(|| WebError::internal("entry facts", &"only sums loaded"))?;
    let q = cunji_core::books::by_quarter(&facts);
    Ok(Account::ALL
        .iter()
        .filter(|a| q.iter().any(|t| t[a.index()] != Fen::ZERO))
        .map(|a| {
            (
                a.name_zh().to_string(),
                q.iter().map(|t| t[a.index()].display()).collect(),
            )
        })
        .collect())
}

/// A grant on a public page: what it is, and the project's return in each year after it (SPEC §15).
pub struct PublicGrant {
    pub program: String,
    pub level: String,
    pub year: i32,
    pub amount: String,
    pub expected: String,
    /// (year, actual return, status) for each year after the grant's, latest first.
    pub returns: Vec<(i32, String, String)>,
}

/// Every grant of the village (and of the villages merged into it) up to the latest year, each with
/// its project's return in every later year.
pub(super) async fn public_grants(
    state: &AppState,
    v: &VillageData,
) -> Result<Vec<PublicGrant>, WebError> {
    let latest = v.years.last().copied().unwrap_or(0);
    let lineage = v.data.regions.lineage(&v.code);
    let mine: Vec<&cunji_core::subsidy::Grant> = v
        .data
        .grants
        .iter()
        .filter(|g| lineage.contains(&g.village) && g.year <= latest)
        .collect();
    let mut out = Vec::new();
    for g in mine {
        let mut returns = Vec::new();
        for y in (g.year + 1..=latest).rev() {
            // A year the village has not reported is 尚未报送, never 无收益 or 0.00 (SPEC §15).
            if !lineage.iter().any(|c| v.data.books.has_own_data(c, y)) {
                returns.push((y, "—".to_string(), "尚未报送".to_string()));
                continue;
            }
            let data = state.data(y).await?;
            let actual = data
                .project_actuals
                .get(&g.project)
                .copied()
                .unwrap_or_default();
            let r = g.returns_in(y, actual);
            returns.push((y, r.actual.display(), r.status.name_zh().to_string()));
        }
        out.push(PublicGrant {
            program: g.program.clone(),
            level: g.level.name_zh().to_string(),
            year: g.year,
            amount: g.amount.display(),
            expected: g.expected().display_or_dash(),
            returns,
        });
    }
    Ok(out)
}
