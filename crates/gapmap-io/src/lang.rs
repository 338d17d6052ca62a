//! The language of what people read: the report, the map page, `map.png`, the QGIS styles'
//! labels and the terminal summary. Every text is written in both languages where it is
//! used ([`Lang::pick`]), so that a text cannot be added in one language only.
//!
//! Swedish follows the terms PTS and the regions use: tätort, småort, landsbygd, vita
//! områden, fiber i absoluta närheten, hushåll, arbetsställen, bredbandsstöd.

use serde::{Deserialize, Serialize};

/// A language of the outputs people read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Swedish.
    Sv,
}

impl Lang {
    /// The codes `--lang` accepts.
    pub const CODES: [&'static str; 2] = ["en", "sv"];

    /// The language's ISO 639-1 code, as in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
        }
    }

    /// The language of a code of [`Lang::CODES`]; `None` for any other.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "sv" => Some(Lang::Sv),
            _ => None,
        }
    }

    /// The text in this language, of the same text in English and in Swedish.
    pub fn pick<'a>(self, en: &'a str, sv: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Sv => sv,
        }
    }

    /// A number with `decimals` decimals and this language's decimal mark (`58.5`, `58,5`).
    pub fn decimal(self, v: f64, decimals: usize) -> String {
        let s = format!("{v:.decimals$}");
        match self {
            Lang::En => s,
            Lang::Sv => s.replace('.', ","),
        }
    }

    /// A share in [0, 1] as a percentage with one decimal (`58.5 %`, `58,5 %`); `–` when it
    /// is not a number.
    pub fn percent(self, share: f64) -> String {
        if share.is_finite() {
            format!("{} %", self.decimal(share * 100.0, 1))
        } else {
            "–".into()
        }
    }

    /// A state-aid class value (`white`, `grey`, `black`, `mixed`) as the reader's word;
    /// any other value as it is.
    pub fn aid_class(self, value: &str) -> &str {
        match (self, value) {
            (Lang::Sv, "white") => "vit",
            (Lang::Sv, "grey") => "grå",
            (Lang::Sv, "black") => "svart",
            (Lang::Sv, "mixed") => "blandad",
            _ => value,
        }
    }

    /// A fibre redundancy class value (`redundant`, `single`, `none`) as the reader's word;
    /// any other value as it is.
    pub fn redundancy_class(self, value: &str) -> &str {
        match (self, value) {
            (Lang::Sv, "redundant") => "redundant",
            (Lang::Sv, "single") => "en väg",
            (Lang::Sv, "none") => "ingen väg",
            _ => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_numbers_take_the_decimal_mark() {
        for c in Lang::CODES {
            assert_eq!(Lang::from_code(c).map(Lang::code), Some(c));
        }
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(Lang::Sv.percent(0.585), "58,5 %");
        assert_eq!(Lang::En.percent(0.585), "58.5 %");
        assert_eq!(Lang::Sv.percent(f64::NAN), "–");
        assert_eq!(Lang::Sv.aid_class("white"), "vit");
        assert_eq!(Lang::En.aid_class("white"), "white");
        assert_eq!(Lang::Sv.aid_class("other"), "other");
        assert_eq!(Lang::Sv.redundancy_class("single"), "en väg");
        assert_eq!(
            serde_json::to_string(&Lang::Sv).ok().as_deref(),
            Some("\"sv\"")
        );
    }
}
