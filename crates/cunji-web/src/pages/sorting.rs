//! Lists that sort by the column whose header is clicked (the village list, the arrears list): one
//! home for the headers' links and marks, so that every such list behaves alike.

/// A column of a sortable list: its key in `sort=`, its header, and whether it holds figures.
pub type Column = (&'static str, &'static str, bool);

pub struct Header {
    pub label: &'static str,
    pub num: bool,
    /// The address that sorts by this column (reversed when it is already the order).
    pub href: String,
    /// `▲` or `▼` on the column that orders the list.
    pub mark: &'static str,
}

/// The headers of `columns` for a list ordered by `sort_key` (`desc`: reversed). `href` gives the
/// address of the list ordered by a column, reversed or not.
pub fn headers(
    columns: &[Column],
    sort_key: &str,
    desc: bool,
    href: impl Fn(&str, bool) -> String,
) -> Vec<Header> {
    columns
        .iter()
        .map(|&(key, label, num)| {
            let here = sort_key == key;
            Header {
                label,
                num,
                href: href(key, here && !desc),
                mark: match (here, desc) {
                    (true, false) => "▲",
                    (true, true) => "▼",
                    _ => "",
                },
            }
        })
        .collect()
}
