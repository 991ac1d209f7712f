//! Defanging: links in an officer's question are made unclickable before the citizen sees them,
//! so that a compromised officer account cannot send the citizen to a phishing page or a
//! look-alike Telegram or Zalo account; and links a citizen wrote (a description, a typed
//! place, an answer) are made unclickable before the duty group sees them, so that a planted
//! tracker or phishing page cannot be opened by a tap, while it stays readable as evidence. The text stays readable for a human: `https://x.y/z`
//! becomes `hxxps://x[.]y/z`, a bare domain (`t.me/abc`, `zalo.me/123`, `công-an.vn`) gets its
//! dots bracketed, an IPv4 address too, any other scheme (`tg://`) loses its `:`, and an
//! `@username` (a Telegram account) its `@`.
//!
//! It errs on the side of defanging: "TP.HCM" reads as a domain and becomes "TP[.]HCM", which
//! a reader still understands. Amounts ("1.000.000 đồng") and decimals ("3.5 kg") are left
//! alone because a top-level domain is letters only and an IP octet has no leading zero.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// `scheme://` and the host after it, for any scheme.
static SCHEME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,30})://([^\s/?#]*)"));

/// A host name: labels of letters, digits, `_` or `-`, then a top-level domain of letters (or
/// an IDN's `xn--` form).
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)(?:[\p{L}\p{N}](?:[\p{L}\p{N}_\-]{0,62}[\p{L}\p{N}])?\.)+(?:xn--[a-z0-9\-]{1,59}|\p{L}{2,24})\b",
    )
});

/// Four dotted numbers; [`octets_ok`] keeps only real addresses.
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b"));

/// `@name` as Telegram links it (5-32 characters); not an e-mail's `@`.
static MENTION: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(^|[^\p{L}\p{N}_.@])@([A-Za-z][A-Za-z0-9_]{4,31})\b"));

fn compile(pattern: &str) -> Regex {
    // The patterns are constants, checked by the tests below.
    Regex::new(pattern).expect("a valid constant pattern")
}

/// `text` with every link, domain, IP address and `@username` made unclickable.
pub fn defang(text: &str) -> String {
    let text = SCHEME.replace_all(text, |c: &Captures| {
        let scheme = &c[1];
        // The host after a scheme is a host whatever its top-level domain looks like.
        let host = c[2].replace('.', "[.]");
        match scheme.to_ascii_lowercase().as_str() {
            "http" => format!("hxxp://{host}"),
            "https" => format!("hxxps://{host}"),
            _ => format!("{scheme}[:]//{host}"),
        }
    });
    let text = HOST.replace_all(&text, |c: &Captures| c[0].replace('.', "[.]"));
    let text = IPV4.replace_all(&text, |c: &Captures| {
        if octets_ok(&c[0]) {
            c[0].replace('.', "[.]")
        } else {
            c[0].to_owned()
        }
    });
    MENTION.replace_all(&text, "$1[@]$2").into_owned()
}

/// Whether every part is 0-255 without a leading zero (so "1.000.000.000" is an amount).
fn octets_ok(ip: &str) -> bool {
    ip.split('.')
        .all(|o| !(o.len() > 1 && o.starts_with('0')) && o.parse::<u16>().is_ok_and(|n| n <= 255))
}

#[cfg(test)]
mod tests {
    use super::defang;

    #[test]
    fn links_domains_addresses_and_accounts_are_defanged() {
        for (given, want) in [
            ("https://x.y", "hxxps://x[.]y"),
            (
                "Vào http://evil.example.com/login?a=1 để xác minh",
                "Vào hxxp://evil[.]example[.]com/login?a=1 để xác minh",
            ),
            ("HTTPS://Bank.VN", "hxxps://Bank[.]VN"),
            (
                "nhắn t.me/congan_support nhé",
                "nhắn t[.]me/congan_support nhé",
            ),
            ("kết bạn zalo.me/0912000111", "kết bạn zalo[.]me/0912000111"),
            ("xem www.công-an.vn", "xem www[.]công-an[.]vn"),
            ("tg://resolve?domain=abc", "tg[:]//resolve?domain=abc"),
            ("máy chủ 203.0.113.5:8080", "máy chủ 203[.]0[.]113[.]5:8080"),
            (
                "liên hệ @police_help_bot ngay",
                "liên hệ [@]police_help_bot ngay",
            ),
            ("@support123", "[@]support123"),
            ("xn--cng-an-8va.vn", "xn--cng-an-8va[.]vn"),
        ] {
            assert_eq!(defang(given), want, "{given}");
        }
    }

    #[test]
    fn ordinary_questions_are_left_alone() {
        for text in [
            "Anh/chị thấy mấy người? Khoảng mấy giờ?",
            "Số tiền khoảng 1.000.000.000 đồng hay 2.500.000 đồng?",
            "Nặng khoảng 3.5 kg, lúc 14:30 ngày 26/11/2026",
            "Xe biển số 29A-123.45 màu gì?",
            "Gửi email cho a@b thì sao",
            "v.v. và vân vân",
        ] {
            assert_eq!(defang(text), text);
        }
    }
}
