//! How one village-year's entry facts are stored: a version byte, then each entry's date
//! (month*100+day, two bytes), account number (one byte, as in `account_numbers`), amount (a
//! zigzag varint), voucher and reversal (each a varint of its length plus one — zero for none — and
//! its UTF-8 bytes). About half the bytes of the JSON array `[[md, account, amount, voucher,
//! reverses], …]` that earlier versions stored, which is still read (it starts with `[`): a
//! province's facts are written out in full by every import that touches them.

use std::borrow::Cow;

/// `(month*100+day, account number, amount, voucher, reverses)`.
pub(crate) type FactRow = (u16, u8, i64, Option<String>, Option<String>);

/// The first byte of facts in this format.
pub(crate) const VERSION: u8 = 1;

/// Appends one entry's row.
pub(crate) fn push_row(
    out: &mut Vec<u8>,
    md: u16,
    account: u8,
    amount: i64,
    voucher: Option<&str>,
    reverses: Option<&str>,
) {
    out.extend_from_slice(&md.to_le_bytes());
    out.push(account);
    push_varint(out, ((amount << 1) ^ (amount >> 63)) as u64);
    push_text(out, voucher);
    push_text(out, reverses);
}

pub(crate) fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn push_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.push(0),
        Some(t) => {
            push_varint(out, t.len() as u64 + 1);
            out.extend_from_slice(t.as_bytes());
        }
    }
}

/// Stored facts in this format.
pub(crate) fn encode(rows: &[FactRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + rows.len() * 16);
    out.push(VERSION);
    for (md, account, amount, voucher, reverses) in rows {
        push_row(
            &mut out,
            *md,
            *account,
            *amount,
            voucher.as_deref(),
            reverses.as_deref(),
        );
    }
    out
}

/// The rows of stored facts, in either format.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<FactRow>, String> {
    match bytes.first() {
        Some(b'[') => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        Some(&VERSION) => Reader { bytes, at: 1 }.rows(),
        Some(b) => Err(format!("未知的格式 {b}")),
        None => Err("内容为空".into()),
    }
}

/// One stored row with its texts borrowed from the stored bytes where it can.
pub(crate) type FactRef<'a> = (u16, u8, i64, Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// Hands each row of stored facts to `row`, texts borrowed from `bytes` (no allocation an entry:
/// a province's report reads millions); the JSON of older databases is decoded and handed over
/// owning its texts.
pub(crate) fn each_row<'a>(
    bytes: &'a [u8],
    mut row: impl FnMut(FactRef<'a>) -> Result<(), String>,
) -> Result<(), String> {
    if bytes.first() != Some(&VERSION) {
        for (md, account, amount, voucher, reverses) in decode(bytes)? {
            row((
                md,
                account,
                amount,
                voucher.map(Cow::Owned),
                reverses.map(Cow::Owned),
            ))?;
        }
        return Ok(());
    }
    let mut r = Reader { bytes, at: 1 };
    while r.at < bytes.len() {
        let (md, account, amount) = r.head()?;
        let voucher = r.text_ref()?.map(Cow::Borrowed);
        row((
            md,
            account,
            amount,
            voucher,
            r.text_ref()?.map(Cow::Borrowed),
        ))?;
    }
    Ok(())
}

pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Reader<'a> {
    fn rows(mut self) -> Result<Vec<FactRow>, String> {
        let mut rows = Vec::new();
        while self.at < self.bytes.len() {
            let (md, account, amount) = self.head()?;
            let voucher = self.text_ref()?.map(str::to_string);
            let reverses = self.text_ref()?.map(str::to_string);
            rows.push((md, account, amount, voucher, reverses));
        }
        Ok(rows)
    }

    /// A row's date, account number and amount.
    fn head(&mut self) -> Result<(u16, u8, i64), String> {
        let md = u16::from_le_bytes([self.byte()?, self.byte()?]);
        let account = self.byte()?;
        let z = self.varint()?;
        Ok((md, account, ((z >> 1) as i64) ^ -((z & 1) as i64)))
    }

    pub(crate) fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("内容不完整")?;
        self.at += 1;
        Ok(b)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("数值过长".into())
    }

    fn text_ref(&mut self) -> Result<Option<&'a str>, String> {
        let n = self.varint()?;
        if n == 0 {
            return Ok(None);
        }
        let len = usize::try_from(n - 1).map_err(|_| "文本过长")?;
        let end = self.at.checked_add(len).ok_or("文本过长")?;
        let slice = self.bytes.get(self.at..end).ok_or("内容不完整")?;
        self.at = end;
        std::str::from_utf8(slice)
            .map(Some)
            .map_err(|_| "文本不是 UTF-8".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any rows read back as written; no bytes at all make the decoder panic.
        #[test]
        fn rows_read_back_as_written(
            rows in proptest::collection::vec((0u16..=1231, 0u8..12, any::<i64>(), proptest::option::of(".{0,12}"), proptest::option::of(".{0,12}")), 0..30),
        ) {
            let bytes = encode(&rows);
            prop_assert_eq!(decode(&bytes).unwrap(), rows);
        }

        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut with_version = vec![VERSION];
            with_version.extend_from_slice(&bytes);
            let _ = decode(&with_version);
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn legacy_json_is_read_and_the_format_is_compact() {
        let rows = decode(r#"[[1231,8,-1500,"记-9",null],[101,3,7,null,"2023:记-1"]]"#.as_bytes())
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (1231, 8, -1500, Some("记-9".to_string()), None),
                (101, 3, 7, None, Some("2023:记-1".to_string())),
            ]
        );
        // One entry of a typical file: 2 + 1 + 3 + 1 + 9 + 1 bytes (the JSON was 29).
        let one = encode(&[(108, 0, 34715, Some("记-0001".into()), None)]);
        assert_eq!(one.len(), 1 + 16);
        assert!(decode(&[]).is_err());
        assert!(decode(&[7, 1, 2]).is_err());
        assert!(decode(&[VERSION, 1, 2, 3]).is_err());
    }
}
