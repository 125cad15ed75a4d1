//! The dates people give the steps after the village resolution (SPEC §13, "Dates of the steps"):
//! the payment date, a recovery's date and the 公示期. Each is checked like the meetings — on or
//! after 1 January of Y + 1 (a year's income is known only once it has ended) and not after today —
//! and against the date it must follow: a payment on or after the decision, a recovery on or after
//! the payment, a notice from the decision on, ending on or after it starts. Every rule broken is
//! listed (a refused form shows them all), each message naming both dates.

use crate::date::Date;

/// What a step's dates are checked against: the reward's year, the decision and payment already
/// recorded (`None` for proposals resolved or paid before those dates were kept), and today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepDates {
    pub year: i32,
    /// 村民（代表）会议决议 date of the latest resolution.
    pub decided: Option<Date>,
    /// The payment date the `pay` step recorded.
    pub paid: Option<Date>,
    pub today: Date,
}

impl StepDates {
    /// The rules every date of a step meets: within [1 January of Y + 1, today].
    fn common(&self, what: &str, date: Date, errors: &mut Vec<String>) {
        let year = self.year;
        if date <= Date::year_end(year) {
            errors.push(format!(
                "{what} {} 早于 {}-01-01：{year} 年的收入要到年度结束后才能确定",
                date.iso(),
                year + 1
            ));
        }
        if date > self.today {
            errors.push(format!(
                "{what} {} 晚于今天（{}）",
                date.iso(),
                self.today.iso()
            ));
        }
    }

    fn after_decision(&self, what: &str, date: Date, errors: &mut Vec<String>) {
        if let Some(decided) = self.decided.filter(|d| date < *d) {
            errors.push(format!(
                "{what} {} 早于村民（代表）会议决议的日期 {}",
                date.iso(),
                decided.iso()
            ));
        }
    }

    fn done(errors: Vec<String>) -> Result<(), Vec<String>> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// `pay`: the payment date, on or after the decision.
    pub fn check_payment(&self, date: Date) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.common("发放日期", date, &mut errors);
        self.after_decision("发放日期", date, &mut errors);
        Self::done(errors)
    }

    /// `recover`: a recovery's date, on or after the payment.
    pub fn check_recovery(&self, date: Date) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.common("追回日期", date, &mut errors);
        if let Some(paid) = self.paid.filter(|p| date < *p) {
            errors.push(format!(
                "追回日期 {} 早于发放日期 {}",
                date.iso(),
                paid.iso()
            ));
        }
        Self::done(errors)
    }

    /// `publish`: the 公示期 starts on or after the decision and ends on or after it starts.
    pub fn check_notice(&self, from: Date, to: Date) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.common("公示期开始日期", from, &mut errors);
        self.common("公示期结束日期", to, &mut errors);
        self.after_decision("公示期开始日期", from, &mut errors);
        if to < from {
            errors.push(format!(
                "公示期结束日期 {} 早于开始日期 {}",
                to.iso(),
                from.iso()
            ));
        }
        Self::done(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn dates() -> StepDates {
        StepDates {
            year: 2024,
            decided: Some(d("2025-01-15")),
            paid: Some(d("2025-01-20")),
            today: d("2025-03-01"),
        }
    }

    #[test]
    fn a_payment_on_the_day_of_the_decision_is_accepted_the_day_before_refused() {
        assert_eq!(dates().check_payment(d("2025-01-15")), Ok(()));
        assert_eq!(
            dates().check_payment(d("2025-01-14")),
            Err(vec![
                "发放日期 2025-01-14 早于村民（代表）会议决议的日期 2025-01-15".to_string()
            ])
        );
        assert_eq!(dates().check_payment(d("2025-03-01")), Ok(()));
        assert_eq!(
            dates().check_payment(d("2025-03-02")),
            Err(vec![
                "发放日期 2025-03-02 晚于今天（2025-03-01）".to_string()
            ])
        );
    }

    #[test]
    fn every_rule_broken_is_listed() {
        let e = dates().check_payment(d("2024-12-31")).unwrap_err();
        assert_eq!(
            e,
            vec![
                "发放日期 2024-12-31 早于 2025-01-01：2024 年的收入要到年度结束后才能确定"
                    .to_string(),
                "发放日期 2024-12-31 早于村民（代表）会议决议的日期 2025-01-15".to_string(),
            ]
        );
    }

    #[test]
    fn a_recovery_follows_the_payment() {
        assert_eq!(dates().check_recovery(d("2025-01-20")), Ok(()));
        assert_eq!(
            dates().check_recovery(d("2025-01-19")),
            Err(vec![
                "追回日期 2025-01-19 早于发放日期 2025-01-20".to_string()
            ])
        );
    }

    #[test]
    fn a_notice_from_the_decision_on_and_ending_after_it_starts() {
        assert_eq!(
            dates().check_notice(d("2025-01-15"), d("2025-01-15")),
            Ok(())
        );
        assert_eq!(
            dates().check_notice(d("2025-02-08"), d("2025-02-01")),
            Err(vec![
                "公示期结束日期 2025-02-01 早于开始日期 2025-02-08".to_string()
            ])
        );
        // A 公示期 ending before the year it concerns had begun (SPEC §13's reported defect).
        let e = dates()
            .check_notice(d("2024-06-01"), d("2024-06-08"))
            .unwrap_err();
        assert_eq!(e.len(), 3);
        assert!(e[2].contains("早于村民（代表）会议决议的日期 2025-01-15"));
    }

    #[test]
    fn proposals_resolved_before_dates_were_kept_skip_that_rule() {
        let old = StepDates {
            decided: None,
            paid: None,
            ..dates()
        };
        assert_eq!(old.check_payment(d("2025-01-02")), Ok(()));
        assert_eq!(old.check_recovery(d("2025-01-02")), Ok(()));
    }
}
