//! Where tips happen: the province's communes and wards, and the Hòm thư mailboxes in them.
//!
//! Since 1 July 2025 Vietnam's local government has two levels, province → commune/ward:
//! districts are gone and communes were merged (the former Cao Phong district of Hòa Bình is
//! now three communes of Phú Thọ). People, old posters and old data keep the old units for
//! years, so each commune lists the units merged into it (`former`): their ids still resolve
//! (a tip, a button, a route or a mailbox that names one is read as the new commune), and their
//! names are found when a citizen types one, with or without diacritics. `district` and
//! `desk.routes[].districts` are still read and reported as deprecated.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Problem, Settings};
use crate::text::normalise;

/// A commune or ward.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commune {
    /// Stable id (`[a-z0-9_-]`, at most 32 characters).
    pub id: String,
    /// Official name, e.g. "Xã Thung Nai".
    pub name: String,
    /// The units merged into it on 1 July 2025, by their old ids and names.
    #[serde(default)]
    pub former: Vec<FormerUnit>,
    /// Deprecated: the district it belonged to before 1 July 2025. Still matched by
    /// `desk.routes[].districts`; `check-config` says to route by commune instead.
    #[serde(default)]
    pub district: String,
}

/// A commune, ward or town merged into a current commune.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormerUnit {
    /// Its id in an earlier configuration, if it had one: stored tips, buttons already sent,
    /// routes and mailboxes that name it resolve to the new commune.
    #[serde(default)]
    pub id: String,
    /// Its name, e.g. "Thị trấn Cao Phong": found when a citizen types it.
    pub name: String,
}

/// A Hòm thư ANTT 4.0 mailbox.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    /// Code printed in the QR deep link `mb_<code>` (`[A-Za-z0-9_-]`, at most 32 characters).
    pub code: String,
    /// Codes this mailbox had on posters printed before (they open it too).
    #[serde(default)]
    pub former_codes: Vec<String>,
    /// Where it hangs, e.g. "Nhà văn hóa xóm Bưng".
    pub name: String,
    /// Id of the commune it stands in (a former id is read as its new commune).
    pub commune: String,
    /// Optional coordinates.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Optional coordinates.
    #[serde(default)]
    pub lon: Option<f64>,
}

/// Words that name the kind of unit, dropped before names are compared, so that "xã Thung
/// Nai", "Thung Nai" and "thung nai" are one name (folded: no diacritics, lowercase).
const UNIT_WORDS: &[&str] = &[
    "thi tran", "thitran", "tt", "xa", "phuong", "p", "x", "thon",
];

/// The unit words that name a commune-level unit, before a name in an address.
const COMMUNE_WORDS: &[&str] = &["xa", "phuong", "thi tran", "tt"];

/// A name reduced for comparison: folded, punctuation gone, the unit word dropped.
fn core(name: &str) -> String {
    let n = normalise(name);
    for w in UNIT_WORDS {
        if let Some(rest) = n.strip_prefix(w).and_then(|r| r.strip_prefix(' ')) {
            return rest.to_owned();
        }
    }
    n
}

impl Commune {
    /// Its name and its former units' names.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.former.iter().map(|f| f.name.as_str()))
    }
}

impl Settings {
    /// Looks a commune up by id, or by the id of a unit merged into it.
    pub fn commune(&self, id: &str) -> Option<&Commune> {
        self.communes.iter().find(|c| c.id == id).or_else(|| {
            self.communes
                .iter()
                .find(|c| c.former.iter().any(|f| !f.id.is_empty() && f.id == id))
        })
    }

    /// The current id of commune `id` (itself, or the commune a former unit was merged into).
    pub fn commune_id<'a>(&'a self, id: &'a str) -> &'a str {
        self.commune(id).map_or(id, |c| c.id.as_str())
    }

    /// Looks a mailbox up by code or former code, ignoring case.
    pub fn mailbox(&self, code: &str) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| {
            m.code.eq_ignore_ascii_case(code)
                || m.former_codes.iter().any(|f| f.eq_ignore_ascii_case(code))
        })
    }

    /// The communes a citizen means by `typed` (a name, an old name, with or without
    /// diacritics, or an address that names one), the best matches only: the name itself,
    /// else a name inside the text after "xã", "phường" or "thị trấn", else a name inside the
    /// text (not after "huyện": a former district's name is no commune), else names that
    /// start with what was typed or hold it as a word (3 letters at least).
    pub fn find_communes(&self, typed: &str) -> Vec<&Commune> {
        let query = core(typed);
        if query.is_empty() {
            return Vec::new();
        }
        let words = format!(" {} ", normalise(typed));
        let score = |c: &Commune| {
            c.names()
                .map(core)
                .map(|n| {
                    let inside = |before: &str| words.contains(&format!(" {before}{n} "));
                    if n == query {
                        4
                    } else if n.is_empty() {
                        0
                    } else if COMMUNE_WORDS.iter().any(|w| inside(&format!("{w} "))) {
                        3
                    } else if inside("") && !inside("huyen ") {
                        2
                    } else if query.chars().count() >= 3
                        && (n.starts_with(&query)
                            || format!(" {n} ").contains(&format!(" {query} ")))
                    {
                        1
                    } else {
                        0
                    }
                })
                .max()
                .unwrap_or(0)
        };
        let scored: Vec<(u8, &Commune)> = self
            .communes
            .iter()
            .map(|c| (score(c), c))
            .filter(|(s, _)| *s > 0)
            .collect();
        let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
        scored
            .into_iter()
            .filter(|(s, _)| *s == best)
            .map(|(_, c)| c)
            .collect()
    }

    /// Rewrites the former commune ids that mailboxes and routes name to the current ones,
    /// so that everything downstream sees one id per commune; each rewrite is noted for
    /// `check-config`.
    pub(super) fn resolve_former_ids(&mut self) {
        let mut notes = Vec::new();
        let current = |s: &Settings, id: &str| {
            let new = s.commune_id(id);
            (new != id).then(|| new.to_owned())
        };
        let mailboxes: Vec<Option<String>> = self
            .mailboxes
            .iter()
            .map(|m| current(self, &m.commune))
            .collect();
        for (i, new) in mailboxes.into_iter().enumerate() {
            if let Some(new) = new {
                let m = &mut self.mailboxes[i];
                notes.push(Problem::new(
                    format!("mailboxes[{i}].commune"),
                    format!(
                        "\"{}\" was merged into \"{new}\"; name \"{new}\"",
                        m.commune
                    ),
                ));
                m.commune = new;
            }
        }
        let routes: Vec<Vec<Option<String>>> = self
            .desk
            .routes
            .iter()
            .map(|r| r.communes.iter().map(|c| current(self, c)).collect())
            .collect();
        for (i, news) in routes.into_iter().enumerate() {
            for (j, new) in news.into_iter().enumerate() {
                if let Some(new) = new {
                    let c = &mut self.desk.routes[i].communes[j];
                    notes.push(Problem::new(
                        format!("desk.routes[{i}].communes"),
                        format!("\"{c}\" was merged into \"{new}\"; name \"{new}\""),
                    ));
                    *c = new;
                }
            }
        }
        self.resolved = notes;
    }

    /// The geography's deprecations, for `check-config` and the start-up log.
    pub(super) fn geography_warnings(&self, w: &mut Vec<Problem>) {
        for (i, c) in self.communes.iter().enumerate() {
            if !c.district.is_empty() {
                w.push(Problem::new(
                    format!("communes[{i}].district"),
                    "is deprecated: districts no longer exist since 1 July 2025; remove it and \
                     route by commune (desk.routes[].communes)",
                ));
            }
        }
        for (i, r) in self.desk.routes.iter().enumerate() {
            if !r.districts.is_empty() {
                w.push(Problem::new(
                    format!("desk.routes[{i}].districts"),
                    "is deprecated: districts no longer exist since 1 July 2025; list the \
                     communes instead (desk.routes[].communes)",
                ));
            }
        }
        w.extend(self.resolved.iter().cloned());
        if self.app.province.trim().is_empty() && !self.communes.is_empty() {
            w.push(Problem::new(
                "app.province",
                "is not set: exports, the triage service and posters cannot name the province",
            ));
        }
    }

    /// Checks communes and mailboxes.
    pub(super) fn validate_geography(&self, p: &mut Vec<Problem>) {
        let mut bad = |key: String, msg: String| p.push(Problem::new(key, msg));
        let mut ids = HashSet::new();
        for (i, c) in self.communes.iter().enumerate() {
            if !super::validate::is_id(&c.id) {
                bad(
                    format!("communes[{i}].id"),
                    "must be 1-32 characters of a-z, 0-9, _ or -".into(),
                );
            } else if !ids.insert(c.id.as_str()) {
                bad(
                    format!("communes[{i}].id"),
                    format!("\"{}\" is used twice", c.id),
                );
            }
            if c.name.trim().is_empty() {
                bad(format!("communes[{i}].name"), "must not be empty".into());
            }
        }
        for (i, c) in self.communes.iter().enumerate() {
            for (j, f) in c.former.iter().enumerate() {
                let key = format!("communes[{i}].former[{j}]");
                if f.name.trim().is_empty() {
                    bad(format!("{key}.name"), "must not be empty".into());
                }
                if f.id.is_empty() {
                    continue;
                }
                if !super::validate::is_id(&f.id) {
                    bad(
                        format!("{key}.id"),
                        "must be 1-32 characters of a-z, 0-9, _ or -".into(),
                    );
                } else if f.id != c.id && !ids.insert(f.id.as_str()) {
                    bad(
                        format!("{key}.id"),
                        format!("\"{}\" is already a commune or a former one", f.id),
                    );
                }
            }
        }

        let mut codes = HashSet::new();
        for (i, m) in self.mailboxes.iter().enumerate() {
            for (key, code) in std::iter::once((format!("mailboxes[{i}].code"), &m.code)).chain(
                m.former_codes
                    .iter()
                    .map(|c| (format!("mailboxes[{i}].former_codes"), c)),
            ) {
                if !super::validate::is_id(code) {
                    bad(
                        key,
                        "must be 1-32 characters of A-Z, a-z, 0-9, _ or -".into(),
                    );
                } else if !codes.insert(code.to_ascii_uppercase()) {
                    bad(key, format!("\"{code}\" is used twice"));
                }
            }
            if m.name.trim().is_empty() {
                bad(format!("mailboxes[{i}].name"), "must not be empty".into());
            }
            if self.commune(&m.commune).is_none() {
                bad(
                    format!("mailboxes[{i}].commune"),
                    format!("\"{}\" is not the id of a configured commune", m.commune),
                );
            }
            match (m.lat, m.lon) {
                (Some(lat), Some(lon)) => {
                    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                        bad(
                            format!("mailboxes[{i}]"),
                            "lat must be within ±90 and lon within ±180".into(),
                        );
                    }
                }
                (None, None) => {}
                _ => bad(
                    format!("mailboxes[{i}]"),
                    "give both lat and lon, or neither".into(),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{load_text, shipped};

    fn ids(found: Vec<&super::Commune>) -> Vec<&str> {
        found.into_iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn a_commune_is_found_by_its_name_or_a_former_one_with_or_without_diacritics() {
        let s = load_text(&shipped()).unwrap();
        // (typed, communes found)
        let table: [(&str, &[&str]); 13] = [
            ("Xã Thung Nai", &["thung-nai"]),
            ("thung nai", &["thung-nai"]),
            ("Mường Thàng", &["muong-thang"]),
            ("muong thang", &["muong-thang"]),
            // Former units, as people will keep saying them.
            ("Thị trấn Cao Phong", &["cao-phong"]),
            ("tt cao phong", &["cao-phong"]),
            ("xã Bắc Phong", &["thung-nai"]),
            ("bac phong", &["thung-nai"]),
            ("Thạch Yên", &["muong-thang"]),
            ("Xa Dung Phong", &["muong-thang"]),
            // An address that names one.
            ("Xóm Bưng, xã Nam Phong, huyện Cao Phong", &["muong-thang"]),
            // The start of a name, once three letters are typed.
            ("mườn", &["muong-thang"]),
            ("Hà Nội", &[]),
        ];
        for (typed, want) in table {
            assert_eq!(ids(s.find_communes(typed)), want, "{typed}");
        }
        // "Phong" is in many names: several answers, for the citizen to pick from.
        assert_eq!(
            ids(s.find_communes("phong")),
            ["cao-phong", "muong-thang", "thung-nai"]
        );
        assert!(s.find_communes("  ").is_empty());
    }

    #[test]
    fn former_ids_and_codes_resolve_to_the_current_commune_and_mailbox() {
        let s = load_text(&shipped()).unwrap();
        assert_eq!(s.commune("bac-phong").unwrap().id, "thung-nai");
        assert_eq!(s.commune("tt-cao-phong").unwrap().name, "Xã Cao Phong");
        assert_eq!(s.commune_id("tay-phong"), "muong-thang");
        assert_eq!(s.commune_id("thung-nai"), "thung-nai");
        assert_eq!(s.commune_id("atlantis"), "atlantis");
        assert!(
            s.commune("").is_none(),
            "an empty former id matches nothing"
        );

        let text = shipped().replace(
            "code = \"CP-TN01\"\n",
            "code = \"TN-01\"\nformer_codes = [\"CP-TN01\"]\n",
        );
        let s = load_text(&text).unwrap();
        assert_eq!(s.mailbox("cp-tn01").unwrap().code, "TN-01");
        assert_eq!(s.mailbox("TN-01").unwrap().name, "Chợ Thung Nai");
    }

    #[test]
    fn mailboxes_and_routes_naming_a_former_commune_are_read_as_the_new_one_and_reported() {
        let text = shipped()
            .replace("commune = \"cao-phong\"", "commune = \"tt-cao-phong\"")
            .replace(
                "enabled = false\ndefault_group = -1001000000001",
                "enabled = true\ndefault_group = -1001000000001",
            )
            .replace("officers = []", "officers = [501]")
            + "\n[[desk.routes]]\ngroup = -100777\ncommunes = [\"bac-phong\", \"cao-phong\"]\n";
        let s = load_text(&text).unwrap();
        assert_eq!(s.mailbox("CP-TT01").unwrap().commune, "cao-phong");
        assert_eq!(s.desk.routes[0].communes, ["thung-nai", "cao-phong"]);
        let warned: Vec<String> = s.warnings().iter().map(ToString::to_string).collect();
        assert!(
            warned.iter().any(|w| w.starts_with(
                "mailboxes[0].commune: \"tt-cao-phong\" was merged into \"cao-phong\""
            )) && warned.iter().any(|w| w.starts_with(
                "desk.routes[0].communes: \"bac-phong\" was merged into \"thung-nai\""
            )),
            "{warned:?}"
        );
        // The shipped file is current: nothing to report.
        assert!(load_text(&shipped()).unwrap().warnings().is_empty());
    }

    #[test]
    fn former_ids_are_checked_like_ids_and_never_twice() {
        let text = shipped()
            .replace(
                "{ id = \"binh-thanh\", name = \"Xã Bình Thanh\" }",
                "{ id = \"tay-phong\", name = \"Xã Bình Thanh\" }",
            )
            .replace(
                "{ id = \"bac-phong\", name = \"Xã Bắc Phong\" }",
                "{ id = \"Bắc Phong\", name = \"\" }",
            );
        let err = load_text(&text).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "communes[2].former[0].id",
                "communes[2].former[1].name",
                "communes[2].former[1].id"
            ],
            "{err}"
        );
    }

    #[test]
    fn a_district_still_given_is_read_and_reported_as_deprecated() {
        let text = shipped().replace(
            "id = \"thung-nai\"\nname = \"Xã Thung Nai\"\n",
            "id = \"thung-nai\"\nname = \"Xã Thung Nai\"\ndistrict = \"Cao Phong\"\n",
        );
        let s = load_text(&text).unwrap();
        assert_eq!(s.commune("thung-nai").unwrap().district, "Cao Phong");
        let keys: Vec<String> = s.warnings().into_iter().map(|w| w.key).collect();
        assert_eq!(keys, ["communes[2].district"]);
    }
}
