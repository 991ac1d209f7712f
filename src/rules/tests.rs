//! Tables and properties of keyword rules, text similarity, personal-data redaction, and the
//! checks of their configuration.

use std::path::Path;

use figment::providers::Env;
use proptest::prelude::*;

use super::pii::{self, Kind};
use super::*;
use crate::config::{KeywordRule, Settings};

fn rule(name: &str, pattern: &str, priority: Option<Priority>, emergency: bool) -> KeywordRule {
    KeywordRule {
        name: name.to_owned(),
        pattern: pattern.to_owned(),
        priority,
        emergency,
        categories: vec![],
    }
}

fn test_rules() -> Rules {
    let settings = RuleSettings {
        keywords: vec![
            rule(
                "drugs-sale",
                r"\bbán (ma túy|hàng trắng|ke)\b",
                Some(Priority::High),
                false,
            ),
            rule("weapon", "súng|lựu đạn", None, true),
            rule("bomb", r"\bbom\b", Some(Priority::Urgent), false),
            KeywordRule {
                categories: vec!["domestic".to_owned()],
                ..rule("threat", "đe dọa|dọa giết", Some(Priority::High), false)
            },
            rule(
                "mediation",
                "hòa giải không thành",
                Some(Priority::Normal),
                false,
            ),
        ],
        ..RuleSettings::default()
    };
    Rules::compile(&settings).unwrap()
}

fn hits(rules: &Rules, category: &str, text: &str) -> Vec<String> {
    rules
        .evaluate(category, text)
        .into_iter()
        .map(|h| h.rule)
        .collect()
}

#[test]
fn keyword_rules_match_text_with_and_without_diacritics() {
    let rules = test_rules();
    let table: &[(&str, &str, &[&str])] = &[
        ("other", "Có người bán ma túy ở chợ Bưng", &["drugs-sale"]),
        ("other", "co nguoi ban ma tuy o cho Bung", &["drugs-sale"]),
        ("other", "CÓ NGƯỜI BÁN MA TÚY", &["drugs-sale"]),
        ("other", "CO NGUOI BAN MA TUY", &["drugs-sale"]),
        ("other", "có người bán ma tuý", &["drugs-sale"]),
        (
            "other",
            "có người ba\u{301}n ma tu\u{301}y",
            &["drugs-sale"],
        ),
        ("other", "bà ấy bán hàng trắng", &["drugs-sale"]),
        ("other", "bà ấy bán ke cho thanh niên", &["drugs-sale"]),
        ("other", "bà ấy bán kem", &[]),
        ("other", "bà ấy bán hàng tạp hóa", &[]),
        ("other", "Nó có súng", &["weapon"]),
        ("other", "no co sung", &["weapon"]),
        ("other", "giấu lựu đạn trong nhà", &["weapon"]),
        ("other", "giau luu dan trong nha", &["weapon"]),
        // Partly accented text is matched only as written: "sung" here is the fig tree, and
        // one stray accent is enough to turn off matching without diacritics.
        ("other", "nhà có cây sung", &[]),
        ("other", "co nguoi ban ma tuý", &[]),
        ("other", "có quả bom ở chợ", &["bomb"]),
        ("other", "Có BOM!", &["bomb"]),
        ("other", "anh ấy đang bơm xăng", &[]),
        ("other", "ANH ẤY ĐANG BƠM XĂNG", &[]),
        ("other", "bom xang", &["bomb"]),
        ("other", "bomb", &[]),
        (
            "other",
            "bán ma túy và có súng, có bom",
            &["drugs-sale", "weapon", "bomb"],
        ),
        ("domestic", "chồng đe dọa giết vợ", &["threat"]),
        ("domestic", "chồng đe doạ giết vợ", &["threat"]),
        ("domestic", "chong de doa giet vo", &["threat"]),
        ("theft", "chồng đe dọa giết vợ", &[]),
        ("other", "hòa giải không thành", &["mediation"]),
        ("other", "hoà giải không thành", &["mediation"]),
        ("other", "HOÀ GIẢI KHÔNG THÀNH", &["mediation"]),
        ("other", "hoa giai khong thanh", &["mediation"]),
        ("other", "", &[]),
    ];
    for (category, text, want) in table {
        assert_eq!(hits(&rules, category, text), *want, "{category}: {text:?}");
    }
}

#[test]
fn a_hit_carries_the_rules_priority_and_emergency_flag() {
    let rules = test_rules();
    assert_eq!(
        rules.evaluate("other", "no co sung va bom"),
        [
            Hit {
                rule: "weapon".to_owned(),
                priority: None,
                emergency: true,
            },
            Hit {
                rule: "bomb".to_owned(),
                priority: Some(Priority::Urgent),
                emergency: false,
            },
        ]
    );
}

#[test]
fn escapes_in_patterns_keep_their_case() {
    // `\D` lowercased would be `\d`: only letters outside ASCII are folded.
    let settings = RuleSettings {
        keywords: vec![rule("no-digit", r"số\D+nhà", Some(Priority::Low), false)],
        ..RuleSettings::default()
    };
    let rules = Rules::compile(&settings).unwrap();
    assert_eq!(hits(&rules, "other", "Số  nhà"), ["no-digit"]);
    assert_eq!(hits(&rules, "other", "so - nha"), ["no-digit"]);
    assert!(hits(&rules, "other", "số 5 nhà").is_empty());
}

#[test]
fn compiling_names_the_rule_with_a_bad_pattern() {
    let settings = RuleSettings {
        keywords: vec![rule("broken", "(bán", Some(Priority::High), false)],
        ..RuleSettings::default()
    };
    let err = Rules::compile(&settings).unwrap_err();
    assert!(err.contains("\"broken\""), "{err}");
    assert!(check_pattern("ma túy|").is_err());
    assert!(check_pattern("ma túy").is_ok());
}

#[test]
fn fold_and_normalise_drop_diacritics_case_and_punctuation() {
    let table = [
        ("Đồng Hới", "dong hoi", "dong hoi"),
        ("ƯƠNG ĐẠO", "uong dao", "uong dao"),
        (
            "Có  người bán ma túy!!",
            "co  nguoi ban ma tuy!!",
            "co nguoi ban ma tuy",
        ),
        (
            "  -- 0912.345.678 --  ",
            "  -- 0912.345.678 --  ",
            "0912 345 678",
        ),
        ("", "", ""),
    ];
    for (text, folded, normalised) in table {
        assert_eq!(fold(text), folded, "{text:?}");
        assert_eq!(normalise(text), normalised, "{text:?}");
    }
}

#[test]
fn similarity_table() {
    let report = "Tối nay khoảng 9 giờ có một nhóm thanh niên tụ tập bán ma túy ở bãi đất \
                  trống cạnh chợ Bưng, xã Thung Nai, đi xe máy màu đen không biển số.";
    let edited = report.replace("9 giờ", "10 giờ");
    let plain = "toi nay khoang 9 gio co mot nhom thanh nien tu tap ban ma tuy o bai dat \
                 trong canh cho Bung, xa Thung Nai, di xe may mau den khong bien so";
    let other = "Hàng xóm nhà tôi đánh bạc xuyên đêm, rất ồn ào, mong công an xử lý giúp.";
    assert_eq!(similarity(report, report), 1.0);
    assert_eq!(similarity(report, plain), 1.0);
    assert_eq!(similarity("Hoà giải!", "hòa   giải"), 1.0);
    assert!(
        similarity(report, &edited) >= 0.85,
        "{}",
        similarity(report, &edited)
    );
    assert!(
        similarity(report, other) < 0.5,
        "{}",
        similarity(report, other)
    );
    assert_eq!(similarity("ab", "ab"), 1.0);
    assert_eq!(similarity("ab", "ac"), 0.0);
    assert_eq!(similarity("ab", "abc"), 0.0);
    assert_eq!(similarity("", "!!"), 1.0);
}

#[test]
fn redact_masks_phone_numbers_in_every_usual_form() {
    for phone in [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "091 234 5678",
        "0387 654 321",
        "+84 912 345 678",
        "+84912345678",
        "+84 0912 345 678",
        "84912345678",
        "84 912 345 678",
        "024 3825 1234",
        "(024) 3825 1234",
        "02438251234",
        "+84 24 3825 1234",
    ] {
        let text = format!("Gọi cho anh Tùng số {phone} nhé.");
        assert_eq!(
            pii::redact(&text),
            "Gọi cho anh Tùng số [SĐT] nhé.",
            "{phone}"
        );
    }
    assert_eq!(pii::redact("sđt:0987654321."), "sđt:[SĐT].");
    assert_eq!(
        pii::redact("0912345678-0987654321"),
        "[SĐT]-[SĐT]",
        "two numbers joined by a dash"
    );
}

#[test]
fn redact_masks_citizen_ids_and_never_mistakes_them_for_phones() {
    for id in [
        "001203004567",
        "079203004567",
        "001 203 004 567",
        "079 203 004 567",
        "0792 0300 4567",
        "079203 004567",
        "079.203.004.567",
    ] {
        let text = format!("CCCD của bà ấy là {id}, cấp năm 2021");
        assert_eq!(
            pii::redact(&text),
            "CCCD của bà ấy là [CCCD], cấp năm 2021",
            "{id}"
        );
    }
}

#[test]
fn redact_masks_licence_plates() {
    for plate in [
        "29A-123.45",
        "29A12345",
        "51F1-123.45",
        "30E 123 45",
        "59-X1 234.56",
        "29LD-123.45",
        "29A-1234",
        "29a-123.45",
        "59x1-234.56",
    ] {
        let text = format!("Xe máy biển {plate} chạy về hướng cầu");
        assert_eq!(
            pii::redact(&text),
            "Xe máy biển [BIỂN SỐ] chạy về hướng cầu",
            "{plate}"
        );
    }
}

#[test]
fn redact_leaves_other_numbers_alone() {
    for text in [
        "Họ đòi 500.000 đồng tiền bảo kê",
        "lừa mất 1.500.000.000 đồng",
        "150.000.000.000 đồng",
        "năm 2026",
        "lúc 14:30 chiều",
        "ngày 26/11/2026",
        "ngày 26-11-2026 và 26.11.2026",
        "mua 10kg 1000 đồng",
        "số nhà 12A ngõ 34",
        "09123456789 (một số thiếu)",
        "tài khoản 0912345678901234",
        "12345678901",
        "gọi 113 hoặc 114",
    ] {
        assert_eq!(pii::redact(text), text);
    }
}

#[test]
fn find_reports_each_kind_with_its_span() {
    let text = "Xe 29A-123.45 của anh Nam (0912 345 678, CCCD 001203004567)";
    let found: Vec<(Kind, &str)> = pii::find(text)
        .into_iter()
        .map(|(k, r)| (k, &text[r]))
        .collect();
    assert_eq!(
        found,
        [
            (Kind::Plate, "29A-123.45"),
            (Kind::Phone, "0912 345 678"),
            (Kind::CitizenId, "001203004567"),
        ]
    );
    assert_eq!(
        pii::redact(text),
        "Xe [BIỂN SỐ] của anh Nam ([SĐT], CCCD [CCCD])"
    );
}

fn shipped() -> Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Settings::load_with(
        &root.join("config/tipline.toml"),
        Env::prefixed("TIPLINE_TEST_NOTHING__"),
    )
    .unwrap()
}

fn rule_problems(settings: &Settings) -> Vec<String> {
    settings
        .validate()
        .into_iter()
        .map(|p| p.key)
        .filter(|k| k.starts_with("rules."))
        .collect()
}

#[test]
fn the_shipped_rules_compile_and_match_unaccented_text() {
    let settings = shipped();
    let rules = Rules::compile(&settings.rules).unwrap();
    let found = rules.evaluate("drugs", "co nguoi ban ma tuy o cho");
    assert!(found.iter().any(|h| h.priority == Some(Priority::High)));
}

#[test]
fn each_rule_problem_is_reported_with_its_key() {
    let mut settings = shipped();
    settings.rules.keywords = vec![
        rule("bad-regex", "(bán", Some(Priority::High), false),
        KeywordRule {
            categories: vec!["atlantis".to_owned()],
            ..rule("unknown-category", "súng", None, true)
        },
        rule("does-nothing", "súng", None, false),
        rule("Bad Name", "súng", None, true),
        rule("twice", "súng", None, true),
        rule("twice", "súng", None, true),
        rule("everything", "súng|", None, true),
    ];
    settings.rules.duplicates.similarity = 0.0;
    settings.rules.duplicates.window_mins = 0;
    settings.rules.hotspots.count = 1;
    settings.rules.hotspots.window_mins = 43_201;
    assert_eq!(
        rule_problems(&settings),
        [
            "rules.keywords[0].pattern",
            "rules.keywords[1].categories",
            "rules.keywords[2]",
            "rules.keywords[3].name",
            "rules.keywords[5].name",
            "rules.keywords[6].pattern",
            "rules.duplicates.similarity",
            "rules.duplicates.window_mins",
            "rules.hotspots.count",
            "rules.hotspots.window_mins",
        ]
    );

    settings.rules = RuleSettings::default();
    settings.rules.duplicates.similarity = f64::NAN;
    assert_eq!(rule_problems(&settings), ["rules.duplicates.similarity"]);
    settings.rules.duplicates.similarity = 1.0;
    settings.rules.hotspots.window_mins = 43_200;
    assert!(rule_problems(&settings).is_empty());
}

#[test]
fn missing_rule_sections_take_their_defaults() {
    let rules: RuleSettings = toml::from_str("[duplicates]\nenabled = false\n").unwrap();
    assert!(rules.keywords.is_empty());
    assert!(!rules.duplicates.enabled);
    assert_eq!(rules.duplicates.window_mins, 1440);
    assert_eq!(rules.duplicates.similarity, 0.85);
    assert!(rules.hotspots.enabled);
    assert_eq!(rules.hotspots.count, 3);
    assert!(toml::from_str::<RuleSettings>("[hotspots]\ncuont = 3\n").is_err());
}

/// A mobile number as written by a citizen: digits and the separators between them.
fn phone() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(vec!['3', '5', '7', '8', '9']),
        "[0-9]{8}",
        prop::collection::vec(prop::sample::select(vec!["", "", "", " ", ".", "-"]), 9),
    )
        .prop_map(|(second, rest, seps)| {
            let digits = format!("0{second}{rest}");
            let mut written = String::new();
            for (i, d) in digits.chars().enumerate() {
                // Nobody writes a separator between the 0 and the operator's digit.
                if i > 1 {
                    written.push_str(seps[i - 1]);
                }
                written.push(d);
            }
            (digits, written)
        })
}

/// Text made of pieces that look like words, numbers, separators and plates.
fn mixed_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,4}",
        "[0-9]{10,12}",
        "[ .+()-]",
        "[A-ZĐa-zđ]{1,2}",
        "[a-zàáảãạăâđêôơưữựỳ ]{1,8}",
        Just("84".to_owned()),
        Just("0912345678".to_owned()),
        Just("[SĐT]".to_owned()),
    ];
    prop::collection::vec(piece, 0..14).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn similarity_is_symmetric_and_between_0_and_1(a in "\\PC{0,60}", b in "\\PC{0,60}") {
        let (ab, ba) = (similarity(&a, &b), similarity(&b, &a));
        prop_assert_eq!(ab, ba);
        prop_assert!((0.0..=1.0).contains(&ab));
    }

    #[test]
    fn a_text_is_fully_similar_to_itself(a in "\\PC{1,80}") {
        prop_assert_eq!(similarity(&a, &a), 1.0);
    }

    #[test]
    fn normalise_is_idempotent(a in "\\PC{0,80}") {
        let once = normalise(&a);
        prop_assert_eq!(normalise(&once), once);
    }

    #[test]
    fn redact_leaves_no_phone_number_behind(
        before in "[a-zàáạăâđêôơư ,:!?]{0,20}",
        (digits, written) in phone(),
        after in "[a-zàáạăâđêôơư ,.!?]{0,20}",
    ) {
        let redacted = pii::redact(&format!("{before}{written}{after}"));
        prop_assert!(!redacted.contains(&digits), "{}", redacted);
        prop_assert!(!redacted.chars().any(|c| c.is_ascii_digit()), "{}", redacted);
        prop_assert_eq!(redacted, format!("{before}[SĐT]{after}"));
    }

    #[test]
    fn redact_is_idempotent(text in mixed_text()) {
        let once = pii::redact(&text);
        prop_assert_eq!(pii::redact(&once), once);
    }
}
