//! The calculation as villagers read it (SPEC §15): the same lines and numbers as the trace of §6,
//! without the policy's keys, English words or internal codes. The trace names a policy key beside its
//! Chinese words (`基数（basis = increase，比上年增长）`), a section in brackets (`〔incentive〕`) and a
//! person by id (`R100201-1（张三，书记）`); each is dropped or turned round here, so that a public page
//! shows `基数（比上年增长）` and `张三（书记）`.

/// Each trace line as the public reads it.
pub fn public_trace(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| public_line(l)).collect()
}

/// Each trace line as the county's and township's staff pages show it: the policy's keys dropped
/// (`〔incentive〕`, `（basis = increase，比上年增长）` → `（比上年增长）`, `（no_growth）`), person ids
/// kept beside the names (`R100201-1（张三，书记）`: the id is what an official types in a file). The
/// report's JSON keeps the trace whole (SPEC §6); pages speak in Chinese terms (issue #33).
pub fn staff_trace(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| parentheses_without_keys(&drop_brackets(l)))
        .collect()
}

fn has_latin(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphabetic())
}

/// One line: bracketed keys dropped, person ids turned into names, parenthesised keys dropped.
fn public_line(line: &str) -> String {
    let line = drop_brackets(line);
    let line = names_for_ids(&line);
    parentheses_without_keys(&line)
}

/// `〔incentive〕` and other bracketed keys go.
fn drop_brackets(line: &str) -> String {
    rewrite_enclosed(line, ('〔', '〕'), |inner| {
        (!has_latin(inner)).then(|| format!("〔{inner}〕"))
    })
}

/// Each `open…close` of `line` replaced by what `keep` makes of its inside (`None`: dropped).
fn rewrite_enclosed(
    line: &str,
    (open, close): (char, char),
    keep: impl Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len_utf8()..];
        let Some(j) = after.find(close) else { break };
        out.push_str(&rest[..i]);
        out.push_str(&keep(&after[..j]).unwrap_or_default());
        rest = &after[j + close.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// `R100201-1（张三，书记）` → `张三（书记）`: an id of letters, digits and dashes right before a full-width
/// parenthesis that holds a name and a role.
fn names_for_ids(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('（') {
        let before = &rest[..open];
        let id_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .last()
            .map_or(open, |(i, _)| i);
        let id = &before[id_start..];
        let after = &rest[open + '（'.len_utf8()..];
        let close = after.find('）');
        let inner = close.map(|c| &after[..c]);
        match inner.and_then(|t| t.split_once('，')) {
            Some((name, role)) if has_latin(id) && !has_latin(name) && !has_latin(role) => {
                out.push_str(&before[..id_start]);
                out.push_str(&format!("{name}（{role}）"));
                rest = &after[close.unwrap_or(0) + '）'.len_utf8()..];
            }
            _ => {
                out.push_str(&rest[..open + '（'.len_utf8()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// In each `（…）`, the parts (split at `，`) that name a policy key go; a parenthesis left empty goes.
fn parentheses_without_keys(line: &str) -> String {
    rewrite_enclosed(line, ('（', '）'), |inner| {
        let kept: Vec<&str> = inner.split('，').filter(|p| !has_latin(p)).collect();
        (!kept.is_empty()).then(|| format!("（{}）", kept.join("，")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ids_and_brackets_go_and_the_numbers_stay() {
        let trace: Vec<String> = [
            "依据《河北省 村集体经济发展激励（经营性收入增长额 10%）》〔incentive〕，口径为经营性收入（operating_income）= 经营收入 + 发包及上交收入 + 投资收益；2024 年为 144,417.49 元。",
            "基数（basis = increase，比上年增长）：2024 年 144,417.49 元 − 2023 年 123,293.04 元 = 21,124.45 元。",
            "计提（schedule = flat）：21,124.45 元 × 10% = 2,112.445 元。",
            "R100205-3（赵保平，两委成员）：权重为 0，不参与分配。",
            "R100205-1（陈建国，书记兼主任）：权重 1，份额 2,112.45 元。",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            public_trace(&trace),
            [
                "依据《河北省 村集体经济发展激励（经营性收入增长额 10%）》，口径为经营性收入= 经营收入 + 发包及上交收入 + 投资收益；2024 年为 144,417.49 元。",
                "基数（比上年增长）：2024 年 144,417.49 元 − 2023 年 123,293.04 元 = 21,124.45 元。",
                "计提：21,124.45 元 × 10% = 2,112.445 元。",
                "赵保平（两委成员）：权重为 0，不参与分配。",
                "陈建国（书记兼主任）：权重 1，份额 2,112.45 元。",
            ]
        );
        // Staff pages keep each id beside its name, and drop the keys as the public page does.
        let staff = staff_trace(&trace);
        assert_eq!(
            staff[1],
            "基数（比上年增长）：2024 年 144,417.49 元 − 2023 年 123,293.04 元 = 21,124.45 元。"
        );
        assert_eq!(
            staff[3],
            "R100205-3（赵保平，两委成员）：权重为 0，不参与分配。"
        );
        let conclusion = staff_trace(&["结论：无增长（no_growth）。".to_string()]);
        assert_eq!(conclusion, ["结论：无增长。"]);
    }
}
