//! Colours and styles of the map outputs: simplestyle properties for geojson.io and similar
//! viewers, and QGIS styles (QML) so that QGIS draws the layers right on opening.

use std::borrow::Cow;

use gapmap_core::gaps::GapKind;

use crate::write::features::{Column, FeatureTable};
use crate::Lang;

/// One simplestyle property: a value for every feature, or one per feature.
#[derive(Debug, Clone)]
pub enum Paint<T> {
    /// One value for every feature.
    All(T),
    /// One value per feature.
    Each(Vec<T>),
}

/// A simplestyle value: a colour, an opacity or a width.
pub trait PaintValue: Clone {
    /// The column of `values`.
    fn column<'a>(values: Vec<Self>) -> Column<'a>
    where
        Self: 'a;
}

impl PaintValue for &str {
    fn column<'a>(values: Vec<Self>) -> Column<'a>
    where
        Self: 'a,
    {
        Column::Text(values.into_iter().map(|v| Some(Cow::Borrowed(v))).collect())
    }
}

impl PaintValue for f64 {
    fn column<'a>(values: Vec<f64>) -> Column<'a> {
        Column::Float(values.into_iter().map(Some).collect())
    }
}

impl PaintValue for i64 {
    fn column<'a>(values: Vec<i64>) -> Column<'a> {
        Column::Int(values)
    }
}

impl<T: PaintValue> Paint<T> {
    fn column<'a>(self, n: usize) -> Column<'a>
    where
        T: 'a,
    {
        match self {
            Paint::All(v) => T::column(vec![v; n]),
            Paint::Each(v) => T::column(v),
        }
    }
}

/// The simplestyle columns of a web map (geojson.io and other viewers draw them): each one
/// optional, pushed in the order fill, fill-opacity, stroke, stroke-width. The one way every
/// map of gapmap gets its colours; QGIS uses the .qml styles beside the maps.
#[derive(Debug, Clone)]
pub struct SimpleStyle<'s, W: PaintValue = i64> {
    /// Fill colour.
    pub fill: Option<Paint<&'s str>>,
    /// Fill opacity, 0-1.
    pub fill_opacity: Option<Paint<f64>>,
    /// Outline colour.
    pub stroke: Option<Paint<&'s str>>,
    /// Outline width.
    pub stroke_width: Option<Paint<W>>,
}

impl<'s, W: PaintValue + 's> SimpleStyle<'s, W> {
    /// Appends the style's columns to `t` (of `n` features).
    pub fn push_to<'a>(self, t: &mut FeatureTable<'a>, n: usize)
    where
        's: 'a,
    {
        if let Some(p) = self.fill {
            t.push("fill", p.column(n));
        }
        if let Some(p) = self.fill_opacity {
            t.push("fill-opacity", p.column(n));
        }
        if let Some(p) = self.stroke {
            t.push("stroke", p.column(n));
        }
        if let Some(p) = self.stroke_width {
            t.push("stroke-width", p.column(n));
        }
    }
}

/// Fill colour of a gap kind (ColorBrewer RdYlBu end colours and orange).
pub fn gap_fill(kind: GapKind) -> &'static str {
    match kind {
        GapKind::Unserved => "#d7191c",
        GapKind::NoFibre => "#fdae61",
        GapKind::No4g => "#2c7bb6",
    }
}

/// Outline colour of a gap kind (darker than the fill).
pub fn gap_stroke(kind: GapKind) -> &'static str {
    match kind {
        GapKind::Unserved => "#8b0000",
        GapKind::NoFibre => "#b35806",
        GapKind::No4g => "#08306b",
    }
}

/// A human label for a gap kind.
pub fn gap_label(kind: GapKind, lang: Lang) -> &'static str {
    match kind {
        GapKind::Unserved => lang.pick("Unserved: no fibre, no 4G", "Utan fiber och utan 4G"),
        GapKind::NoFibre => lang.pick("No fibre (4G only)", "Utan fiber (endast 4G)"),
        GapKind::No4g => lang.pick("No 4G (fibre only)", "Utan 4G (endast fiber)"),
    }
}

/// Classes of `share_fibre_passed` for the settlement choropleth (ColorBrewer RdYlGn, 5).
pub const SHARE_CLASSES: [(f64, f64, &str, &str); 5] = [
    (0.0, 0.2, "#d7191c", "0–20 %"),
    (0.2, 0.4, "#fdae61", "20–40 %"),
    (0.4, 0.6, "#ffffbf", "40–60 %"),
    (0.6, 0.8, "#a6d96a", "60–80 %"),
    (0.8, 1.0, "#1a9641", "80–100 %"),
];

/// Colour for settlements without premises.
pub const NO_DATA_FILL: &str = "#bdbdbd";

/// Fill colour of a fibre share in [0, 1]; grey when there are no premises.
pub fn share_fill(share: Option<f64>) -> &'static str {
    match share {
        None => NO_DATA_FILL,
        Some(s) => {
            SHARE_CLASSES
                .iter()
                .find(|(_, hi, _, _)| s < *hi)
                .unwrap_or(&SHARE_CLASSES[4])
                .2
        }
    }
}

fn rgba(hex: &str, alpha: u8) -> String {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    format!("{},{},{},{alpha}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

fn fill_symbol(name: usize, fill: &str, stroke: &str) -> String {
    format!(
        r#"      <symbol name="{name}" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="{}"/>
            <Option name="joinstyle" type="QString" value="round"/>
            <Option name="outline_color" type="QString" value="{}"/>
            <Option name="outline_style" type="QString" value="solid"/>
            <Option name="outline_width" type="QString" value="0.3"/>
            <Option name="outline_width_unit" type="QString" value="MM"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
"#,
        rgba(fill, 170),
        rgba(stroke, 255)
    )
}

fn qml(renderer: &str) -> String {
    format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\" styleCategories=\"Symbology\">\n{renderer}</qgis>\n"
    )
}

/// QGIS style of the gap layer: categories by `kind`, labelled in `lang`.
pub fn gaps_qml(lang: Lang) -> String {
    let mut cats = String::new();
    let mut syms = String::new();
    for (i, k) in GapKind::ALL.iter().enumerate() {
        cats.push_str(&format!(
            "      <category value=\"{}\" symbol=\"{i}\" label=\"{}\" render=\"true\"/>\n",
            k.as_str(),
            gap_label(*k, lang)
        ));
        syms.push_str(&fill_symbol(i, gap_fill(*k), gap_stroke(*k)));
    }
    qml(&format!(
        "  <renderer-v2 type=\"categorizedSymbol\" attr=\"kind\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <categories>\n{cats}    </categories>\n    <symbols>\n{syms}    </symbols>\n  </renderer-v2>\n"
    ))
}

/// QGIS style of the settlement layer: graduated by `share_fibre_passed`, labelled in `lang`;
/// without a fibre layer (`fibre_known` false), every area in the no-data grey, as its share
/// is not known.
pub fn settlements_qml(lang: Lang, fibre_known: bool) -> String {
    if !fibre_known {
        return qml(&format!(
            "  <renderer-v2 type=\"singleSymbol\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <symbols>\n{}    </symbols>\n  </renderer-v2>\n",
            fill_symbol(0, NO_DATA_FILL, "#404040")
        ));
    }
    let passed = lang.pick("fibre passed", "fiber i absoluta närheten");
    let mut ranges = String::new();
    let mut syms = String::new();
    for (i, (lo, hi, fill, label)) in SHARE_CLASSES.iter().enumerate() {
        ranges.push_str(&format!(
            "      <range lower=\"{lo:.6}\" upper=\"{hi:.6}\" symbol=\"{i}\" label=\"{passed} {label}\" render=\"true\"/>\n"
        ));
        syms.push_str(&fill_symbol(i, fill, "#404040"));
    }
    qml(&format!(
        "  <renderer-v2 type=\"graduatedSymbol\" attr=\"share_fibre_passed\" graduatedMethod=\"GraduatedColor\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <ranges>\n{ranges}    </ranges>\n    <symbols>\n{syms}    </symbols>\n  </renderer-v2>\n"
    ))
}

/// A label in English and in Swedish ([`Lang::pick`] chooses).
pub type Label = (&'static str, &'static str);

/// Classes of `critical_links` by premises cut: (lower, upper, stroke colour, simplestyle
/// width in pixels, label). Bounds are half-integers so that whole counts fall inside one.
pub const CRITICAL_CLASSES: [(f64, f64, &str, u32, Label); 4] = [
    (
        -0.5,
        9.5,
        "#fcae91",
        2,
        (
            "fewer than 10 premises cut",
            "färre än 10 adresser avskurna",
        ),
    ),
    (
        9.5,
        99.5,
        "#fb6a4a",
        3,
        ("10-99 premises cut", "10–99 adresser avskurna"),
    ),
    (
        99.5,
        999.5,
        "#cb181d",
        4,
        ("100-999 premises cut", "100–999 adresser avskurna"),
    ),
    (
        999.5,
        1e12,
        "#67000d",
        5,
        (
            "1,000 or more premises cut",
            "1\u{a0}000 eller fler adresser avskurna",
        ),
    ),
];

/// Stroke colour and width of a critical unit that cuts `premises` premises.
pub fn critical_stroke(premises: u64) -> (&'static str, u32) {
    let p = premises as f64;
    let c = CRITICAL_CLASSES
        .iter()
        .find(|c| p > c.0 && p <= c.1)
        .unwrap_or(&CRITICAL_CLASSES[3]);
    (c.2, c.3)
}

fn line_symbol(name: usize, stroke: &str, width_px: u32) -> String {
    format!(
        r#"      <symbol name="{name}" type="line" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="capstyle" type="QString" value="round"/>
            <Option name="joinstyle" type="QString" value="round"/>
            <Option name="line_color" type="QString" value="{}"/>
            <Option name="line_style" type="QString" value="solid"/>
            <Option name="line_width" type="QString" value="{:.2}"/>
            <Option name="line_width_unit" type="QString" value="MM"/>
          </Option>
        </layer>
      </symbol>
"#,
        rgba(stroke, 255),
        f64::from(width_px) * 0.3
    )
}

/// QGIS style of the critical links: graduated by `premises_cut`, labelled in `lang`.
pub fn critical_links_qml(lang: Lang) -> String {
    let mut ranges = String::new();
    let mut syms = String::new();
    for (i, (lo, hi, stroke, width, label)) in CRITICAL_CLASSES.iter().enumerate() {
        ranges.push_str(&format!(
            "      <range lower=\"{lo:.6}\" upper=\"{hi:.6}\" symbol=\"{i}\" label=\"{}\" render=\"true\"/>\n",
            lang.pick(label.0, label.1)
        ));
        syms.push_str(&line_symbol(i, stroke, *width));
    }
    qml(&format!(
        "  <renderer-v2 type=\"graduatedSymbol\" attr=\"premises_cut\" graduatedMethod=\"GraduatedColor\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <ranges>\n{ranges}    </ranges>\n    <symbols>\n{syms}    </symbols>\n  </renderer-v2>\n"
    ))
}

/// Operator colours of the coverage maps (ColorBrewer Set1), by operator id, repeating.
pub const OPERATOR_COLOURS: [&str; 8] = [
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
];

/// Fill of an operator's coverage.
pub fn operator_fill(operator: u32) -> &'static str {
    OPERATOR_COLOURS[operator as usize % OPERATOR_COLOURS.len()]
}

/// QGIS style of predicted coverage: categories by `layer_name` (`operator tech`), coloured
/// like the GeoJSON's simplestyle fills.
pub fn coverage_qml(layers: &[(String, u32)]) -> String {
    let mut cats = String::new();
    let mut syms = String::new();
    for (i, (name, op)) in layers.iter().enumerate() {
        let esc = name
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        cats.push_str(&format!(
            "      <category value=\"{esc}\" symbol=\"{i}\" label=\"{esc}\" render=\"true\"/>\n"
        ));
        syms.push_str(&fill_symbol(i, operator_fill(*op), operator_fill(*op)));
    }
    qml(&format!(
        "  <renderer-v2 type=\"categorizedSymbol\" attr=\"layer_name\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <categories>\n{cats}    </categories>\n    <symbols>\n{syms}    </symbols>\n  </renderer-v2>\n"
    ))
}

/// State-aid classes: (value, fill, stroke, label). White areas are drawn white with a dark
/// outline, so that they stand out on a grey background map.
pub const AID_CLASSES: [(&str, &str, &str, Label); 4] = [
    (
        "white",
        "#ffffff",
        "#252525",
        (
            "white: no network at the target speed",
            "vit: inget nät med målhastigheten",
        ),
    ),
    (
        "grey",
        "#969696",
        "#525252",
        ("grey: one network", "grå: ett nät"),
    ),
    (
        "black",
        "#252525",
        "#000000",
        ("black: two or more networks", "svart: två eller fler nät"),
    ),
    (
        "mixed",
        "#d9d9d9",
        "#525252",
        (
            "mixed: no class holds more than half of the premises",
            "blandad: ingen klass har mer än hälften av adresserna",
        ),
    ),
];

/// Fill and stroke of a state-aid class (`white`, `grey`, `black`, an area's `mixed`); no-data
/// grey otherwise.
pub fn aid_fill(class: Option<&str>) -> (&'static str, &'static str) {
    AID_CLASSES
        .iter()
        .find(|c| Some(c.0) == class)
        .map_or((NO_DATA_FILL, "#737373"), |c| (c.1, c.2))
}

/// QGIS style of a layer with an `aid_class` attribute: categories white, grey, black and (for
/// areas) mixed, labelled in `lang`.
pub fn aid_qml(lang: Lang) -> String {
    let mut cats = String::new();
    let mut syms = String::new();
    for (i, (value, fill, stroke, label)) in AID_CLASSES.iter().enumerate() {
        cats.push_str(&format!(
            "      <category value=\"{value}\" symbol=\"{i}\" label=\"{}\" render=\"true\"/>\n",
            lang.pick(label.0, label.1)
        ));
        syms.push_str(&fill_symbol(i, fill, stroke));
    }
    qml(&format!(
        "  <renderer-v2 type=\"categorizedSymbol\" attr=\"aid_class\" forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\">\n    <categories>\n{cats}    </categories>\n    <symbols>\n{syms}    </symbols>\n  </renderer-v2>\n"
    ))
}

/// A QGIS fill symbol (for styles built outside this module).
pub fn fill_symbol_xml(name: usize, fill: &str, stroke: &str) -> String {
    fill_symbol(name, fill, stroke)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_classes_cover_the_unit_interval() {
        assert_eq!(share_fill(Some(0.0)), "#d7191c");
        assert_eq!(share_fill(Some(0.2)), "#fdae61");
        assert_eq!(share_fill(Some(0.999)), "#1a9641");
        assert_eq!(share_fill(Some(1.0)), "#1a9641");
        assert_eq!(share_fill(None), NO_DATA_FILL);
        // Without a fibre layer: one grey symbol, no graduation by a share not measured.
        let q = settlements_qml(Lang::En, false);
        assert!(q.contains("type=\"singleSymbol\"") && !q.contains("share_fibre_passed"));
        assert!(q.contains(&rgba(NO_DATA_FILL, 170)));
        let q = settlements_qml(Lang::En, true);
        assert!(q.contains("graduatedSymbol") && q.contains("share_fibre_passed"));
        assert_eq!(rgba("#d7191c", 170), "215,25,28,170");
        assert!(gaps_qml(Lang::En).contains("attr=\"kind\""));
        assert!(gaps_qml(Lang::Sv).contains("label=\"Utan fiber (endast 4G)\""));
        assert_eq!(
            settlements_qml(Lang::En, true).matches("<range ").count(),
            5
        );
        assert!(settlements_qml(Lang::Sv, true).contains("fiber i absoluta närheten 0–20 %"));
        assert!(aid_qml(Lang::Sv).contains("label=\"vit: inget nät med målhastigheten\""));
        assert_eq!(critical_stroke(0), ("#fcae91", 2));
        assert_eq!(critical_stroke(9), ("#fcae91", 2));
        assert_eq!(critical_stroke(10), ("#fb6a4a", 3));
        assert_eq!(critical_stroke(1000), ("#67000d", 5));
        assert_eq!(critical_links_qml(Lang::En).matches("<range ").count(), 4);
        assert!(critical_links_qml(Lang::Sv).contains("100–999 adresser avskurna"));
        let q = coverage_qml(&[("Telia 4G".into(), 0), ("A&B 5G".into(), 9)]);
        assert_eq!(q.matches("<category ").count(), 2);
        assert!(q.contains("A&amp;B 5G") && q.contains(&rgba(operator_fill(1), 170)));
    }
}
