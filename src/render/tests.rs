//! Tests of the pictures as their readers get them: QR codes decoded back out of the PNG,
//! SVG parsed back with usvg, and text boxes measured with the embedded fonts.

use resvg::{tiny_skia, usvg};

use super::chart::{DaySeries, PNG_SIZE, chart_png, chart_svg, nice_axis};
use super::poster::{PNG_WIDTH, Poster, poster_png, poster_svg};
use super::text::{fit, width, wrap};
use super::{escape, svg_to_png, usvg_options};

const TELEGRAM: &str = "https://t.me/antt_hoabinh_bot?start=mb_HB-CP-0012";
const ZALO: &str = "https://zalo.me/3046275961023857461";
const STEPS: [&str; 4] = [
    "1. Mở ứng dụng Telegram, quét mã QR này.",
    "2. Bấm “Bắt đầu” và chọn loại vụ việc.",
    "3. Kể lại sự việc, gửi ảnh hoặc video nếu có.",
    "4. Nhận mã tin báo để theo dõi kết quả.",
];

fn poster<'a>(name: &'a str, zalo: Option<&'a str>) -> Poster<'a> {
    Poster {
        title: "HÒM THƯ ANTT 4.0",
        mailbox_name: name,
        place_line: "Xã Thung Nai · Huyện Cao Phong · Tỉnh Hòa Bình",
        code: "HB-CP-0012",
        telegram_link: TELEGRAM,
        zalo_link: zalo,
        instructions: &STEPS,
        promise: "Danh tính người báo tin được giữ bí mật tuyệt đối. \
                  Bạn có thể báo tin ẩn danh.",
        emergency: "Trường hợp khẩn cấp: gọi ngay 113",
        scan_label: "Quét mã bằng Telegram",
        zalo_label: "Hoặc quét bằng Zalo",
    }
}

/// Every QR code rqrr finds in a PNG, decoded.
fn decode_qr(png: &[u8]) -> Vec<String> {
    let pixmap = tiny_skia::Pixmap::decode_png(png).expect("a PNG");
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let rgba = pixmap.data();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let i = (y * w + x) * 4;
        let (r, g, b) = (rgba[i] as u32, rgba[i + 1] as u32, rgba[i + 2] as u32);
        ((299 * r + 587 * g + 114 * b) / 1000) as u8
    });
    let mut found: Vec<String> = image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect();
    found.sort();
    found
}

/// The canvas bounding box of every text element in `svg`, with the canvas size.
fn text_boxes(svg: &str) -> (usvg::Size, Vec<usvg::Rect>) {
    fn walk(group: &usvg::Group, boxes: &mut Vec<usvg::Rect>) {
        for node in group.children() {
            match node {
                usvg::Node::Group(g) => walk(g, boxes),
                usvg::Node::Text(_) => boxes.push(node.abs_bounding_box()),
                _ => {}
            }
        }
    }
    let tree = usvg::Tree::from_str(svg, &usvg_options()).expect("well-formed SVG");
    let mut boxes = Vec::new();
    walk(tree.root(), &mut boxes);
    (tree.size(), boxes)
}

#[test]
fn the_poster_png_holds_the_telegram_link_exactly() {
    let png = poster_png(&poster("Nhà văn hóa xóm Bưng", None)).expect("poster");
    let pixmap = tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
    assert_eq!((pixmap.width(), pixmap.height()), (PNG_WIDTH, 1754));
    assert_eq!(decode_qr(&png), vec![TELEGRAM.to_owned()]);
}

#[test]
fn a_poster_with_zalo_carries_both_codes() {
    let png = poster_png(&poster("Nhà văn hóa xóm Bưng", Some(ZALO))).expect("poster");
    assert_eq!(decode_qr(&png), vec![TELEGRAM.to_owned(), ZALO.to_owned()]);
}

#[test]
fn the_poster_svg_parses_and_escapes_the_mailbox_name() {
    let svg = poster_svg(&poster("Chợ & Trạm <Y tế> \"xã\"", Some(ZALO))).expect("poster");
    assert!(svg.contains("Chợ &amp; Trạm &lt;Y tế&gt; &quot;xã&quot;"));
    assert!(svg.starts_with("<svg") && svg.contains(r#"viewBox="0 0 2100 2970""#));
    let (size, boxes) = text_boxes(&svg);
    assert!((size.width() / size.height() - 210.0 / 297.0).abs() < 1e-3);
    assert!(boxes.len() >= 12, "{} text elements", boxes.len());
}

#[test]
fn long_vietnamese_texts_stay_inside_the_margins() {
    let name = "Nhà văn hóa thôn Đồng Bưởi Thượng kiêm điểm sinh hoạt cộng đồng liên xóm \
                Khướng Bắc, Khướng Nam và Khướng Trên của đồng bào Mường";
    let long_step = "2. Bấm “Bắt đầu”, chọn ngôn ngữ, chọn loại vụ việc rồi làm theo hướng dẫn \
                     hiện ra trên màn hình điện thoại của bạn.";
    let steps = [
        STEPS[0],
        long_step,
        STEPS[2],
        STEPS[3],
        "5. Giữ kín mã tin báo của bạn.",
    ];
    let absurd = name.repeat(3);
    for name in [name, absurd.as_str()] {
        let mut p = poster(name, Some(ZALO));
        p.instructions = &steps;
        p.place_line = "Xã Thượng Cốc, Xã Văn Nghĩa, Xã Văn Sơn · Huyện Lạc Sơn · Tỉnh Hòa Bình";
        let svg = poster_svg(&p).expect("poster");
        let (size, boxes) = text_boxes(&svg);
        let unit = size.width() / 2100.0;
        for b in boxes {
            assert!(
                b.left() >= 100.0 * unit,
                "text starts at {} units",
                b.left() / unit
            );
            assert!(
                b.right() <= 2000.0 * unit,
                "text ends at {} units",
                b.right() / unit
            );
            assert!(b.bottom() <= 2970.0 * unit);
        }
        // Only the absurd name is cut, and the cut is marked.
        assert_eq!(svg.contains('…'), name.len() > 500, "{name}");
    }
}

#[test]
fn a_poster_with_far_too_many_steps_is_refused() {
    let steps = [STEPS[1]; 14];
    let mut p = poster("Xóm Bưng", None);
    p.instructions = &steps;
    let err = poster_svg(&p).expect_err("no room for the QR code");
    assert!(err.to_string().contains("too long"), "{err}");
}

#[test]
fn width_estimates_never_undershoot_the_real_fonts() {
    let samples = [
        "HÒM THƯ ANTT 4.0",
        "Nhà văn hóa xóm Bưng",
        "Xã Thung Nai · Huyện Cao Phong",
        "Trường hợp khẩn cấp: gọi ngay 113",
        "https://t.me/antt_hoabinh_bot?start=mb_HB-CP-0012",
        "ĐƯỜNG QUỐC LỘ 6 — KHU CÔNG NGHIỆP",
        "mmmmwwwwWWWWMMMM iiiilll 0123456789",
        "Bấm “Bắt đầu” (ẩn danh) & gửi ảnh/video",
    ];
    for bold in [false, true] {
        for s in samples {
            let svg = format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="6000" height="200"><text x="10" y="120" font-size="100" font-weight="{}">{}</text></svg>"#,
                if bold { "bold" } else { "normal" },
                escape(s)
            );
            let (_, boxes) = text_boxes(&svg);
            let real = boxes[0].width();
            let guess = width(s, 100.0, bold);
            assert!(guess >= real, "{s:?} bold={bold}: {guess} < {real}");
            assert!(guess <= real * 1.3, "{s:?} bold={bold}: {guess} ≫ {real}");
        }
    }
}

#[test]
fn wrapping_breaks_at_spaces_and_inside_overlong_words() {
    assert_eq!(wrap("một hai ba", 1000.0, 10.0, false), vec!["một hai ba"]);
    let lines = wrap("một hai ba bốn năm", 60.0, 10.0, false);
    assert!(
        lines.len() > 1 && lines.join(" ") == "một hai ba bốn năm",
        "{lines:?}"
    );
    let link = "https://t.me/antt_hoabinh_bot?start=mb_HB-CP-0012";
    let lines = wrap(link, 200.0, 10.0, false);
    assert!(lines.len() > 1 && lines.concat() == link, "{lines:?}");
    assert!(lines.iter().all(|l| width(l, 10.0, false) <= 200.0));
    assert_eq!(
        wrap("dòng một\ndòng hai", 1000.0, 10.0, false),
        vec!["dòng một", "dòng hai"]
    );
    assert!(wrap("  \n ", 100.0, 10.0, false).is_empty());
}

#[test]
fn fitting_shrinks_first_and_cuts_last() {
    let short = fit("Xóm Bưng", 1000.0, 2, (100.0, 60.0), true);
    assert_eq!((short.size, short.lines.len()), (100.0, 1));
    let long = fit(&"Khướng ".repeat(40), 1000.0, 2, (100.0, 60.0), true);
    assert_eq!((long.size, long.lines.len()), (60.0, 2));
    assert!(long.lines[1].ends_with('…'));
    assert!(long.lines.iter().all(|l| width(l, 60.0, true) <= 1000.0));
}

#[test]
fn escape_table() {
    let cases = [
        ("", ""),
        ("Xóm Bưng", "Xóm Bưng"),
        ("a & b", "a &amp; b"),
        ("<script>", "&lt;script&gt;"),
        (r#"say "hi""#, "say &quot;hi&quot;"),
        ("it's", "it&apos;s"),
        ("&amp;", "&amp;amp;"),
        ("a\u{0}b\u{1b}c\u{FFFF}", "abc"),
        ("tab\there", "tab\there"),
    ];
    for (input, want) in cases {
        assert_eq!(escape(input), want, "{input:?}");
    }
}

#[test]
fn svg_to_png_refuses_absurd_widths_and_bad_svg() {
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"/>"#;
    assert!(svg_to_png(svg, 0).is_err());
    assert!(svg_to_png(svg, 100_000).is_err());
    assert!(svg_to_png("<svg", 100).is_err());
    let png = svg_to_png(svg, 50).expect("png");
    let pixmap = tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
    assert_eq!((pixmap.width(), pixmap.height()), (50, 100));
    // The background is white, not transparent.
    assert_eq!(
        pixmap.pixel(0, 0).map(|p| (p.red(), p.alpha())),
        Some((255, 255))
    );
}

fn week() -> DaySeries {
    let days = [
        "18/11", "19/11", "20/11", "21/11", "22/11", "23/11", "24/11",
    ];
    DaySeries {
        title: "Tin báo theo ngày, tuần 47".to_owned(),
        days: days.iter().map(|d| d.to_string()).collect(),
        series: vec![
            ("Ma túy".to_owned(), vec![3, 0, 5, 2, 10, 1, 0]),
            ("Trộm cắp".to_owned(), vec![1, 4, 0, 2, 3, 0, 6]),
            ("Lừa đảo qua mạng".to_owned(), vec![0, 2, 2, 1, 0, 4, 1]),
            ("Cờ bạc & <lô đề>".to_owned(), vec![2, 0, 1]),
        ],
    }
}

#[test]
fn the_chart_png_is_square_and_decodes() {
    let png = chart_png(&week()).expect("chart");
    let pixmap = tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
    assert_eq!((pixmap.width(), pixmap.height()), (PNG_SIZE, PNG_SIZE));
    let svg = chart_svg(&week());
    assert!(svg.contains("Cờ bạc &amp; &lt;lô đề&gt; (3)"));
    // Totals per day, and the y axis reaches the largest one (13) with round ticks.
    for total in ["6", "8", "5", "13", "7"] {
        assert!(svg.contains(&format!(">{total}</text>")), "total {total}");
    }
    assert!(svg.contains(">15</text>") && !svg.contains(">20</text>"));
}

#[test]
fn a_chart_without_tips_still_renders() {
    for series in [vec![], vec![("Ma túy".to_owned(), vec![0; 7])]] {
        let data = DaySeries { series, ..week() };
        let svg = chart_svg(&data);
        assert!(svg.contains("Σ = 0"));
        let png = chart_png(&data).expect("chart");
        assert!(tiny_skia::Pixmap::decode_png(&png).is_ok());
    }
    let nothing = chart_svg(&DaySeries::default());
    assert!(usvg::Tree::from_str(&nothing, &usvg_options()).is_ok());
}

#[test]
fn a_long_chart_keeps_every_text_on_the_canvas() {
    let days: Vec<String> = (1..=31).map(|d| format!("{d:02}/12")).collect();
    let series: Vec<(String, Vec<u32>)> = (0..15)
        .map(|c| {
            let label = format!("Loại vụ việc số {c} rất dài để thử chú giải");
            (label, (0..31).map(|d| (d * 7 + c * 13) % 40).collect())
        })
        .collect();
    let data = DaySeries {
        title: "Tin báo theo ngày, tháng 12 năm 2025, toàn tỉnh Hòa Bình và các huyện lân cận"
            .to_owned(),
        days,
        series,
    };
    let svg = chart_svg(&data);
    assert!(
        svg.contains("rotate(-90"),
        "narrow slots rotate their labels"
    );
    let (size, boxes) = text_boxes(&svg);
    assert_eq!((size.width(), size.height()), (1080.0, 1080.0));
    for b in boxes {
        assert!(b.left() >= 0.0 && b.right() <= 1080.0, "{b:?}");
        assert!(b.top() >= 0.0 && b.bottom() <= 1080.0, "{b:?}");
    }
}

#[test]
fn y_axes_use_round_steps() {
    let cases = [
        (0, (1, 4)),
        (1, (1, 1)),
        (4, (1, 4)),
        (7, (2, 8)),
        (13, (5, 15)),
        (23, (5, 25)),
        (100, (20, 100)),
        (101, (50, 150)),
        (999, (200, 1000)),
    ];
    for (max, want) in cases {
        assert_eq!(nice_axis(max), want, "max {max}");
    }
}
