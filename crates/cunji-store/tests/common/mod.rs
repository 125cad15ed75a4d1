//! The database of a store test: SQLite, or PostgreSQL with `CUNJI_TEST_PG`.
// Each test file uses some of these helpers.
#![allow(dead_code)]

use cunji_store::import::{ImportError, Quiet};
use cunji_store::{ImportKind, ImportOutcome, Store};

/// SQLite in `dir`, or a fresh database on the PostgreSQL server of `CUNJI_TEST_PG`.
pub fn test_url(dir: &std::path::Path, name: &str) -> String {
    cunji_store::testing::database_url(dir, "s", name)
}

/// A fresh store for test `name` holding the region register `regions`, with its address and its
/// directory (for the caller to remove).
pub async fn store_with(name: &str, regions: &str) -> (Store, String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("cunji-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = test_url(&dir, name);
    let store = Store::open(&url, true).await.unwrap();
    import(&store, ImportKind::Regions, "r.csv", regions)
        .await
        .unwrap();
    (store, url, dir)
}

/// Imports `text` as file `file` of `kind`, by the user "test".
pub async fn import(
    store: &Store,
    kind: ImportKind,
    file: &str,
    text: &str,
) -> Result<ImportOutcome, ImportError> {
    store
        .import(kind, file, text.as_bytes(), "test", &Quiet)
        .await
}

/// SPEC §13's example resolution of a 2024 reward, deciding `awards` (person, fen).
pub fn resolution(awards: &[(&str, i64)]) -> cunji_core::workflow::Resolution {
    cunji_core::workflow::Resolution::spec_example(awards)
}

/// The village of `resolved_proposal`.
pub const PROPOSAL_VILLAGE: &str = "110101001001";

/// A reward for the village's 2024 computed under policy `policy_id` (a pool of 500,000 fen, all
/// computed for P1 张三, the secretary) and resolved on 2025-03-01 (400,000 fen decided): its id.
pub async fn resolved_proposal(store: &Store, policy_id: i64) -> i64 {
    use cunji_store::{Computation, ProposalAward};
    let figures = store
        .figures_fingerprint(&[PROPOSAL_VILLAGE.to_string()])
        .await
        .unwrap();
    let awards = [ProposalAward {
        person: "P1".into(),
        name: "张三".into(),
        role: cunji_core::cadre::Role::Secretary,
        computed: cunji_core::Fen::from_fen(500_000),
        decided: None,
        paid: None,
        recovered: cunji_core::Fen::ZERO,
    }];
    let computation = Computation {
        village: PROPOSAL_VILLAGE,
        year: 2024,
        policy_id,
        pool: 500_000,
        measure: None,
        base: None,
        figures: &figures,
        awards: &awards,
        trace: &[],
        story: &[],
    };
    let id = store
        .record_computation(&computation, "test")
        .await
        .unwrap();
    let today = cunji_core::date::Date::parse("2025-03-01").unwrap();
    store
        .record_resolution(id, &resolution(&[("P1", 400_000)]), today, "test")
        .await
        .unwrap();
    id
}
