//! QR codes of public pages, as SVG and as PNG. The PNG is written here (grey-scale, zlib stored
//! blocks): a QR code is small, and this keeps an image library out of the build.

use qrcode::{Color, EcLevel, QrCode};

const QUIET: usize = 4;

fn code(text: &str) -> Result<QrCode, String> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("无法生成二维码：{e}"))
}

pub fn svg(text: &str) -> Result<String, String> {
    let c = code(text)?;
    Ok(c.render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// The modules of the code, with the quiet zone: `true` is dark.
pub fn modules(text: &str) -> Result<(usize, Vec<bool>), String> {
    let c = code(text)?;
    let w = c.width();
    let colors = c.to_colors();
    let size = w + 2 * QUIET;
    let mut out = vec![false; size * size];
    for y in 0..w {
        for x in 0..w {
            out[(y + QUIET) * size + x + QUIET] = colors[y * w + x] == Color::Dark;
        }
    }
    Ok((size, out))
}

pub fn png(text: &str, scale: usize) -> Result<Vec<u8>, String> {
    let (size, dark) = modules(text)?;
    let px = size * scale;
    let mut raw = Vec::with_capacity((px + 1) * px);
    for y in 0..px {
        raw.push(0u8); // filter: none
        for x in 0..px {
            raw.push(if dark[(y / scale) * size + x / scale] {
                0
            } else {
                255
            });
        }
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(px as u32).to_be_bytes());
    ihdr.extend_from_slice(&(px as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, deflate, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        out.push(if i + 1 == blocks.len() { 1 } else { 0 });
        let len = b.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(b);
    }
    if blocks.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + *byte as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in data {
        crc ^= *byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_png_are_well_formed() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        let p = png("http://127.0.0.1/public/village/131124100200", 4).unwrap();
        assert!(p.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(p.ends_with(&[0xae, 0x42, 0x60, 0x82]));
        let s = svg("x").unwrap();
        assert!(s.contains("<svg"));
    }
}
