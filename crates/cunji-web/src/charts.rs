//! SVG charts drawn on the server: they work in the WeChat browser, print on paper, and need nothing
//! from outside. Values come in already computed; this only draws.

use std::fmt::Write as _;

use cunji_core::money::Fen;

const PALETTE: [&str; 8] = [
    "#b42318", "#f79009", "#fdb022", "#12b76a", "#0b5cad", "#6941c6", "#667085", "#0e9384",
];

/// Each source level of a grant in its own colour, the same on every page (中央 red … 乡镇 purple).
pub fn level_colour(level: cunji_core::subsidy::SourceLevel) -> &'static str {
    use cunji_core::subsidy::SourceLevel::*;
    match level {
        Central => "#b42318",
        Provincial => "#f79009",
        Municipal => "#0b5cad",
        County => "#12b76a",
        Township => "#6941c6",
        Other => "#667085",
    }
}

/// Four equal steps from 0 (or below it) that cover `[min, max]` with round numbers: each step is
/// 1, 2, 2.5 or 5 times a power of ten (`0/5万/10万/15万/20万`, not `0/49/98/148`). Returns the
/// lowest tick and the step, in the units given.
pub fn round_axis(min: f64, max: f64) -> (f64, f64) {
    let (min, max) = (min.min(0.0), max.max(0.0));
    let mut magnitude = 10f64.powi(((max - min).max(1.0) / 4.0).log10().floor() as i32);
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * magnitude;
            let low = (min / step).floor() * step;
            if low + 4.0 * step >= max {
                return (low, step);
            }
        }
        magnitude *= 10.0;
    }
}

/// A money tick in 元 (`5,000`) or, from 1 万 up, in 万 (`5万`, `2.5万`).
fn money_tick(yuan: f64) -> String {
    if yuan == 0.0 {
        return "0".to_string();
    }
    if yuan.abs() >= 10_000.0 {
        let wan = yuan / 10_000.0;
        let text = format!("{wan:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        return format!("{text}万");
    }
    let whole = Fen::from_fen((yuan * 100.0).round() as i64).display();
    whole.trim_end_matches(".00").to_string()
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A chart's size and plot area.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    top: f64,
    plot_h: f64,
}

impl Frame {
    /// The opening of the SVG, with its five horizontal grid lines labelled by `label(0..=4)`.
    fn start(&self, title: &str, label: impl Fn(usize) -> String) -> String {
        let Frame {
            w,
            h,
            left,
            top,
            plot_h,
        } = self;
        let mut s = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{title}"><rect width="100%" height="100%" fill="#fff"/>"##
        );
        for i in 0..=4 {
            let y = top + plot_h - plot_h * i as f64 / 4.0;
            let _ = write!(
                s,
                r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e4e7eb"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#52606d">{}</text>"##,
                w - 10.0,
                left - 4.0,
                y + 4.0,
                label(i)
            );
        }
        s
    }
}

/// Villages per band by year, stacked; `counts[year][band]`.
pub fn stacked_bands(years: &[i32], bands: &[String], counts: &[Vec<u64>]) -> String {
    let (w, h, left, bottom, top) = (640.0, 300.0, 44.0, 56.0, 16.0);
    let most = counts
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(4) as f64;
    let (_, step) = round_axis(0.0, most);
    let step = step.max(1.0);
    let max = step * 4.0;
    let plot_h = h - bottom - top;
    let slot = (w - left - 10.0) / years.len().max(1) as f64;
    let bar_w = (slot * 0.6).min(60.0);
    let frame = Frame {
        w,
        h,
        left,
        top,
        plot_h,
    };
    let mut s = frame.start("各年分档村数", |i| format!("{:.0}", step * i as f64));
    for (yi, year) in years.iter().enumerate() {
        let x = left + slot * yi as f64 + (slot - bar_w) / 2.0;
        let mut acc = 0.0;
        for (bi, n) in counts
            .get(yi)
            .map(|c| c.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let bh = plot_h * *n as f64 / max;
            let y = top + plot_h - acc - bh;
            if *n > 0 {
                let _ = write!(
                    s,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{bh:.1}" fill="{}"><title>{year} 年 {}：{n} 个村</title></rect>"#,
                    PALETTE[bi % PALETTE.len()],
                    esc(&bands[bi])
                );
            }
            acc += bh;
        }
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#1f2933">{year}</text>"##,
            x + bar_w / 2.0,
            top + plot_h + 16.0
        );
    }
    let mut lx = left;
    for (bi, b) in bands.iter().enumerate() {
        let _ = write!(
            s,
            r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1f2933">{}</text>"##,
            h - 22.0,
            PALETTE[bi % PALETTE.len()],
            lx + 16.0,
            h - 12.0,
            esc(b)
        );
        lx += 24.0 + 13.0 * b.chars().count() as f64;
    }
    s.push_str("</svg>");
    s
}

/// Vertical bars of money per label (years), shown in 万元.
pub fn money_bars(labels: &[String], series: &[(&str, Vec<Option<Fen>>)]) -> String {
    let (w, h, left, bottom, top) = (640.0, 260.0, 56.0, 44.0, 16.0);
    let all: Vec<i64> = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().map(|f| f.fen()))
        .collect();
    let top_fen = all.iter().copied().max().unwrap_or(0).max(1) as f64;
    let low_fen = all.iter().copied().min().unwrap_or(0).min(0) as f64;
    // Ticks in yuan at round numbers; the plot spans exactly the four steps.
    let (low, step) = round_axis(low_fen / 100.0, top_fen / 100.0);
    let (min, span) = (low * 100.0, step * 400.0);
    let max = min + span;
    let plot_h = h - bottom - top;
    let zero_y = top + plot_h * max / span;
    let slot = (w - left - 10.0) / labels.len().max(1) as f64;
    let n = series.len().max(1) as f64;
    let bar_w = (slot * 0.7 / n).min(28.0);
    let frame = Frame {
        w,
        h,
        left,
        top,
        plot_h,
    };
    let mut s = frame.start("各年收入（元）", |i| {
        money_tick(low + step * i as f64)
    });
    for (li, label) in labels.iter().enumerate() {
        let x0 = left + slot * li as f64 + (slot - bar_w * n) / 2.0;
        for (si, (name, values)) in series.iter().enumerate() {
            let Some(Some(v)) = values.get(li) else {
                continue;
            };
            let bh = plot_h * (v.fen() as f64).abs() / span;
            let y = if v.fen() >= 0 { zero_y - bh } else { zero_y };
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{bar_w:.1}" height="{bh:.1}" fill="{}"><title>{} {}：{} 元</title></rect>"#,
                x0 + bar_w * si as f64,
                PALETTE[(si + 4) % PALETTE.len()],
                esc(label),
                esc(name),
                v.display()
            );
        }
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#1f2933">{}</text>"##,
            x0 + bar_w * n / 2.0,
            top + plot_h + 16.0,
            esc(label)
        );
    }
    let mut lx = left;
    for (si, (name, _)) in series.iter().enumerate() {
        let _ = write!(
            s,
            r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1f2933">{}</text>"##,
            h - 20.0,
            PALETTE[(si + 4) % PALETTE.len()],
            lx + 16.0,
            h - 10.0,
            esc(name)
        );
        lx += 30.0 + 13.0 * name.chars().count() as f64;
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars: an amount per label in the label's colour (subsidies by source level).
pub fn money_hbars(items: &[(String, Fen, &str)]) -> String {
    let row = 28.0;
    let (w, left) = (640.0, 70.0);
    let h = row * items.len().max(1) as f64 + 10.0;
    let max = items
        .iter()
        .map(|(_, v, _)| v.fen())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="扶持资金来源"><rect width="100%" height="100%" fill="#fff"/>"##
    );
    for (i, (label, v, colour)) in items.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let bw = (w - left - 150.0) * v.fen().max(0) as f64 / max;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#1f2933">{}</text><rect x="{left}" y="{:.1}" width="{bw:.1}" height="18" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1f2933">{}</text>"##,
            left - 6.0,
            y + 14.0,
            esc(label),
            y + 2.0,
            colour,
            left + bw + 6.0,
            y + 14.0,
            v.wan()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_text() {
        let s = stacked_bands(
            &[2023, 2024],
            &["<5万".into(), "≥5万".into()],
            &[vec![3, 1], vec![2, 2]],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("&lt;5万") && !s.contains("<5万"));
        assert_eq!(s.matches("<rect x=").count(), 4 + 2);
        let m = money_bars(
            &["2024".into()],
            &[("经营性收入", vec![Some(Fen::from_fen(-100))])],
        );
        assert!(m.contains("-1.00 元"));
    }

    #[test]
    fn axes_step_by_round_numbers() {
        assert_eq!(round_axis(0.0, 196.0), (0.0, 50.0));
        assert_eq!(round_axis(0.0, 148_000.0), (0.0, 50_000.0));
        assert_eq!(round_axis(0.0, 90_000.0), (0.0, 25_000.0));
        assert_eq!(round_axis(-3_000.0, 7_000.0), (-5_000.0, 5_000.0));
        for (yuan, tick) in [
            (0.0, "0"),
            (5_000.0, "5,000"),
            (50_000.0, "5万"),
            (25_000.0, "2.5万"),
            (-50_000.0, "-5万"),
        ] {
            assert_eq!(money_tick(yuan), tick);
        }
        let m = money_bars(
            &["2023".into(), "2024".into()],
            &[(
                "经营性收入",
                vec![
                    Some(Fen::from_fen(4_900_000)),
                    Some(Fen::from_fen(14_800_000)),
                ],
            )],
        );
        for tick in [">0<", ">5万<", ">10万<", ">15万<", ">20万<"] {
            assert!(m.contains(tick), "{tick} in {m}");
        }
    }
}
