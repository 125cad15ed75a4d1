//! HTTP tests of the web application on a real server (SQLite, or PostgreSQL with `CUNJI_TEST_PG`),
//! one file per area, all on the spawn-the-app helper of `common`.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod auth;
mod books;
mod contracts;
mod contracts_public;
mod entries;
mod pages;
mod public;
mod replica;
mod serve;
mod stress;
mod villages;
mod words;
mod workflow;

/// The figure of a page's element `id` (`<… id="ID">FIGURE<`).
pub fn stat(html: &str, id: &str) -> String {
    let i = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}"));
    let rest = &html[i..];
    rest[rest.find('>').unwrap() + 1..rest.find('<').unwrap()].to_string()
}
