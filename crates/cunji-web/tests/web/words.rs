//! Staff pages speak in names and Chinese terms (issue #33): a crawl of every page each role reaches
//! finds no policy key, no English word and no internal code, outside the policy's TOML text (an
//! expert's view) and the file-format reference. Identifiers a person types — user names, person and
//! grant ids (they hold digits) — are allowed beside the names they stand for.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::common::Client;

/// The sign-in names of the fixture's users, and `test`, who imported its files: identifiers shown
/// beside the display name.
const USER_NAMES: [&str; 5] = ["admin", "town", "acct", "audit", "test"];

/// Names of file formats and units as people's own software shows them (the upload and import forms
/// say which files they take): not English prose, and no Chinese word replaces them.
const FORMAT_NAMES: [&str; 9] = [
    "CSV", "Excel", "WPS", "GBK", "PDF", "JPEG", "PNG", "MB", "KB",
];

/// The text a page shows, without its tags, scripts, styles and the policy's TOML (`<textarea>`,
/// `<pre>`): what a person reads.
fn shown_text(html: &str) -> String {
    let mut rest = html.to_string();
    for (open, close) in [
        ("<script", "</script>"),
        ("<style", "</style>"),
        ("<textarea", "</textarea>"),
        ("<pre", "</pre>"),
    ] {
        let mut kept = String::new();
        let mut at = rest.as_str();
        while let Some(i) = at.find(open) {
            kept.push_str(&at[..i]);
            at = at[i..]
                .find(close)
                .map_or("", |j| &at[i + j + close.len()..]);
        }
        kept.push_str(at);
        rest = kept;
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in rest.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    // A title or file name in 《》 is data a person wrote (a policy's name, an imported file's).
    let mut plain = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '《' => depth += 1,
            '》' if depth > 0 => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

/// Latin words of `text` that are not identifiers: letters only (an id holds digits), not a user name.
fn english_words(text: &str) -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    let mut word = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            word.push(c);
            continue;
        }
        let w = std::mem::take(&mut word);
        let w = w.trim_matches('-');
        let letters = w.chars().filter(|c| c.is_ascii_alphabetic()).count();
        let has_digit = w.chars().any(|c| c.is_ascii_digit());
        if letters >= 2 && !has_digit && !USER_NAMES.contains(&w) && !FORMAT_NAMES.contains(&w) {
            words.insert(w.to_string());
        }
    }
    words
}

/// The links of a page a crawl follows: pages of this site, not downloads, the public site or
/// sign-out.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| h.starts_with('/'))
        .filter(|h| {
            let skip = [
                "/static",
                "/logout",
                "/public",
                "/templates",
                "/formats",
                ".csv",
                ".xlsx",
                "/attachments/",
            ];
            !skip.iter().any(|s| h.contains(s))
        })
        .collect()
}

#[tokio::test]
async fn no_staff_page_shows_a_policy_key_or_an_english_word() {
    let s = crate::contracts::with_contracts("words").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    // A proposal walked to payment, so that the workflow pages show their history and forms.
    town.post_form("/workflow/131124100200/2024/compute", &[], true)
        .await;
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pages = 0;
    for user in &USER_NAMES[..4] {
        let mut c = Client::signed_in(s.addr, user).await;
        let mut seen = BTreeSet::new();
        let mut todo: VecDeque<String> = [
            "/dashboard",
            "/policy",
            "/audit",
            "/import",
            "/payfloor",
            "/arrears?year=2025",
            "/village/131124100200/contracts?year=2025",
            "/contract-alerts?year=2025&kind=arrears",
        ]
        .map(String::from)
        .into();
        while let Some(path) = todo.pop_front() {
            if seen.len() >= 60 || !seen.insert(path.clone()) {
                continue;
            }
            let r = c.get(&path).await;
            if r.status != 200 {
                continue;
            }
            pages += 1;
            let html = r.text();
            for w in english_words(&shown_text(&html)) {
                found.entry(w).or_default().insert(format!("{user} {path}"));
            }
            todo.extend(links(&html));
        }
    }
    assert!(pages > 60, "the crawl read {pages} pages");
    assert!(
        found.is_empty(),
        "English words or keys on staff pages: {found:#?}"
    );
}
