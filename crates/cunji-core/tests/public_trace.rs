//! The calculation villagers read (SPEC §15), from every shipped policy's trace: no Latin letter (policy
//! keys, English words, person ids) is left, and every amount of the trace is still there — in the
//! trace without its keys (proposals computed before the story was kept) and in the story told for
//! villagers.

mod common;

use common::World;
use cunji_core::account::Account::*;
use cunji_core::cadre::Role;
use cunji_core::incentive::public::public_trace;
use cunji_core::policy::Policy;
use cunji_core::region::Level;

/// The amounts of a line: runs of digits and commas with a decimal point (`2,112.45`).
fn amounts(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || c == ',' || c == '.' {
            run.push(c);
        } else {
            let t = run.trim_matches(|c| c == ',' || c == '.');
            if t.contains('.') && t.starts_with(|c: char| c.is_ascii_digit()) {
                out.push(t.to_string());
            }
            run.clear();
        }
    }
    out
}

#[test]
fn every_policys_calculation_reads_in_chinese_with_its_amounts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut lines = 0;
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        let policy = Policy::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // A village inside the policy's region: its township's first nine digits.
        let prefix = match &policy.region {
            None => "130102001".to_string(),
            Some(r) => {
                let code = cunji_core::region::RegionCode::parse(&format!("{r:0<12}")).unwrap();
                let c = code.as_str();
                match code.level() {
                    Level::Province => format!("{}0102001", &c[..2]),
                    Level::City => format!("{}02001", &c[..4]),
                    Level::County => format!("{}001", &c[..6]),
                    _ => c[..9].to_string(),
                }
            }
        };
        let v = format!("{prefix}001");
        let mut w = World::with_villages(&prefix, &["001"]);
        w.book(
            &v,
            2023,
            &[(OperatingRevenue, "100000"), (OperatingCost, "10000")],
        );
        w.book(
            &v,
            2024,
            &[
                (OperatingRevenue, "180000.55"),
                (ContractingIncome, "20000"),
            ],
        );
        w.cadre(&v, 2024, "R100201-1", Role::SecretaryDirector, 12)
            .name = "陈建国".into();
        w.cadre(&v, 2024, "R100201-3", Role::Member, 5).name = "赵保平".into();
        let report = w.report(&policy, 2024);
        for village in &report.villages {
            let Some(inc) = &village.incentive else {
                continue;
            };
            let story = w.story(&policy, 2024, village.code.as_str()).join("\n");
            assert!(
                !story.chars().any(|c| c.is_ascii_alphabetic()),
                "{}: {story}",
                path.display()
            );
            for (line, public) in inc.trace.iter().zip(public_trace(&inc.trace)) {
                lines += 1;
                assert!(
                    !public.chars().any(|c| c.is_ascii_alphabetic()),
                    "{}: {public}",
                    path.display()
                );
                for a in amounts(line) {
                    assert!(
                        public.contains(&a),
                        "{}: {a} lost from {line}",
                        path.display()
                    );
                    assert!(
                        story.contains(&a),
                        "{}: {a} of {line} not told in {story}",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(lines > 30, "the policies' traces were read: {lines} lines");
}
