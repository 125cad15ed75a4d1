//! Short texts kept inline: an entry's village code (12 bytes) and voucher (记-0001 is 8) fit in the
//! value itself, so the millions of entries an import holds in flight need no heap allocation each.
//!
//! Why: with a `String` each, a province's year (4.6M entries) was 9.3M allocations made by the
//! checking thread and freed after SQLite stored them; the allocator's work was a tenth of the
//! import's samples.

use std::fmt;
use std::ops::Deref;

/// Bytes held inline; longer texts go to the heap. 22 keeps the value as small as a `String`.
const INLINE: usize = 22;

/// A text, inline when at most 22 bytes.
#[derive(Clone)]
pub(crate) struct ShortText(Repr);

#[derive(Clone)]
enum Repr {
    /// Invariant: `bytes[..len]` is UTF-8 (copied from a `&str`).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl ShortText {
    pub fn new(text: &str) -> ShortText {
        if text.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            ShortText(Repr::Inline {
                len: text.len() as u8,
                bytes,
            })
        } else {
            ShortText(Repr::Heap(text.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: `bytes[..len]` is UTF-8: `new`, the only maker of an `Inline` (the field is
            // private, and nothing writes to it after), copies a `&str` whole into it. Not checked
            // again: `from_utf8` here cost 8–10% of an import's time (paired runs,
            // docs/benchmarks.md, "unsafe, and what each one buys").
            Repr::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..*len as usize])
            },
            Repr::Heap(text) => text,
        }
    }
}

impl Deref for ShortText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for ShortText {
    fn from(text: &str) -> ShortText {
        ShortText::new(text)
    }
}

impl From<String> for ShortText {
    fn from(text: String) -> ShortText {
        ShortText::new(&text)
    }
}

impl PartialEq for ShortText {
    fn eq(&self, other: &ShortText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ShortText {}

impl PartialEq<str> for ShortText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<String> for ShortText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<ShortText> for String {
    fn eq(&self, other: &ShortText) -> bool {
        self == other.as_str()
    }
}

impl std::hash::Hash for ShortText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As the text hashes, so that maps keyed by short texts are looked up by `&str`.
        self.as_str().hash(state)
    }
}

impl std::borrow::Borrow<str> for ShortText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ShortText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text comes back as it went in, inline or not, and compares as its text.
        #[test]
        fn a_short_text_is_its_text(text in "\\PC{0,40}") {
            let short = ShortText::new(&text);
            prop_assert_eq!(short.as_str(), text.as_str());
            prop_assert_eq!(short.len(), text.len());
            prop_assert!(short == text);
            prop_assert_eq!(short.clone(), ShortText::from(text.clone()));
            prop_assert_eq!(format!("{short}"), text);
        }
    }

    #[test]
    fn codes_and_vouchers_are_kept_inline_and_long_texts_on_the_heap() {
        assert!(matches!(
            ShortText::new("130109102201").0,
            Repr::Inline { len: 12, .. }
        ));
        assert!(matches!(
            ShortText::new("记-0001").0,
            Repr::Inline { len: 8, .. }
        ));
        let long = "记账凭证第二〇二四年一号附件";
        assert!(matches!(ShortText::new(long).0, Repr::Heap(_)));
        assert_eq!(ShortText::new(long).as_str(), long);
        assert_eq!(
            std::mem::size_of::<ShortText>(),
            std::mem::size_of::<String>()
        );
    }
}
