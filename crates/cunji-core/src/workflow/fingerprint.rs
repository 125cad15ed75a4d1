//! The fingerprint of a published reward (SPEC §15): the first 12 hex digits of the SHA-256 of its
//! canonical figures, printed on the public notice beside the QR code. A villager, or the public page
//! itself, recomputes it from the current books: the same fingerprint means the same figures.

use sha2::{Digest, Sha256};

use crate::money::Fen;
use crate::region::RegionCode;

/// What a fingerprint covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figures<'a> {
    pub village: &'a RegionCode,
    pub year: i32,
    pub pool: Fen,
    /// The measure's value and the base it gave (§6), when known.
    pub measure: Option<Fen>,
    pub base: Option<Fen>,
    /// Each person by name, with the decided and the paid amount, in the proposal's order.
    pub people: Vec<(&'a str, Option<Fen>, Option<Fen>)>,
}

impl Figures<'_> {
    /// The canonical text: one `key=value` a line, amounts as `12345.67`, a missing one empty.
    pub fn canonical(&self) -> String {
        let money = |f: Option<Fen>| f.map(|f| f.json()).unwrap_or_default();
        let mut text = format!(
            "village={}\nyear={}\npool={}\nmeasure={}\nbase={}\n",
            self.village,
            self.year,
            self.pool.json(),
            money(self.measure),
            money(self.base)
        );
        for (name, decided, paid) in &self.people {
            text.push_str(&format!(
                "person={name}|{}|{}\n",
                money(*decided),
                money(*paid)
            ));
        }
        text
    }

    /// The first 12 hex digits of the SHA-256 of the canonical text.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.canonical().as_bytes());
        crate::columns::hex(&digest[..6])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_figures_the_same_fingerprint_and_any_change_shows() {
        let v = RegionCode::parse("131124100200").unwrap();
        let f = |pool: i64| Figures {
            village: &v,
            year: 2024,
            pool: Fen::from_fen(pool),
            measure: Some(Fen::from_fen(15_000_000)),
            base: Some(Fen::from_fen(5_000_000)),
            people: vec![(
                "张建国",
                Some(Fen::from_fen(250_000)),
                Some(Fen::from_fen(250_000)),
            )],
        };
        assert_eq!(
            f(500_000).canonical(),
            "village=131124100200\nyear=2024\npool=5000.00\nmeasure=150000.00\nbase=50000.00\nperson=张建国|2500.00|2500.00\n"
        );
        let print = f(500_000).fingerprint();
        assert_eq!(print.len(), 12);
        assert!(print.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(print, f(500_000).fingerprint());
        assert_ne!(print, f(499_999).fingerprint());
    }
}
