//! `/formats`: the import files' columns as the importers check them, drawn from the same column
//! definitions (`cunji_core::columns`), so the page cannot drift from what is accepted.

use askama::Template;
use axum::response::Response;
use cunji_core::account::Account;
use cunji_core::columns::{ImportKind, ACCOUNT_NOTE};

use crate::auth::Viewer;
use crate::html::{render, Layout};

pub struct ColumnView {
    pub zh: &'static str,
    pub key: &'static str,
    pub required: bool,
    pub note: &'static str,
}

pub struct KindView {
    pub key: &'static str,
    pub name: &'static str,
    pub columns: Vec<ColumnView>,
}

#[derive(Template)]
#[template(path = "formats.html")]
struct FormatsPage {
    layout: Layout,
    kinds: Vec<KindView>,
    limit_mb: usize,
}

pub async fn page(Viewer(user): Viewer) -> Response {
    let kinds = ImportKind::ALL
        .iter()
        .map(|k| {
            let mut columns: Vec<ColumnView> = k
                .columns()
                .iter()
                .map(|c| ColumnView {
                    zh: c.zh,
                    key: c.key,
                    required: c.required,
                    note: c.note,
                })
                .collect();
            if *k == ImportKind::Statements {
                columns.extend(Account::ALL.iter().map(|a| ColumnView {
                    zh: a.name_zh(),
                    key: a.key(),
                    required: false,
                    note: ACCOUNT_NOTE,
                }));
            }
            KindView {
                key: k.key(),
                name: k.name_zh(),
                columns,
            }
        })
        .collect();
    render(&FormatsPage {
        layout: Layout::new("导入文件格式", Some(&user)),
        kinds,
        limit_mb: super::import::UPLOAD_LIMIT / (1024 * 1024),
    })
}
