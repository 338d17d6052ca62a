//! `map.html`: the analysis as one self-contained, interactive, offline map.
//!
//! Leaflet 1.9.4 (`assets/leaflet/`, BSD-2-Clause) and the data are inlined: nothing is fetched
//! when the page is viewed (the CSS's `url(...)` images are taken out), and no basemap is
//! needed. The data are the analysis' own web-map layers (WGS 84, simplified, with gapmap's
//! simplestyle colours), coordinates rounded to 5 decimals (about 1 m). Each layer can be turned
//! on and off; a click on a feature shows its figures (the same values as the tables); a
//! settlement can be found by name; a legend explains every layer.

use gapmap_core::gaps::GapKind;
use serde_json::Value;

use crate::write::style::gap_label;
use crate::Lang;

use super::report::esc;

static LEAFLET_JS: &str = include_str!("../../assets/leaflet/leaflet.js");
/// Leaflet's licence (BSD 2-Clause), carried in the page beside its code, as it asks.
static LEAFLET_LICENSE: &str = include_str!("../../assets/leaflet/LICENSE");
static LEAFLET_CSS: &str = include_str!("../../assets/leaflet/leaflet.css");

/// One layer of the map.
#[derive(Debug, Clone)]
pub struct HtmlLayer {
    /// A stable id (tests and the page's script use it).
    pub id: String,
    /// Its name in the layer list.
    pub name: String,
    /// A GeoJSON FeatureCollection in WGS 84 with simplestyle properties (`fill`,
    /// `fill-opacity`, `stroke`, `stroke-width`).
    pub data: Value,
    /// Shown when the page opens.
    pub visible: bool,
    /// Legend entries: (colour, label).
    pub legend: Vec<(String, String)>,
    /// The property that names a feature in its panel (e.g. `settlement_name`).
    pub title_field: String,
    /// The properties its panel lists: (property, label).
    pub fields: Vec<(String, String)>,
    /// Drawn as outlines only (boundaries), not with the features' own fills.
    pub outline: bool,
}

/// Rounds every coordinate in a GeoJSON value to 5 decimals, in place.
pub fn round_coordinates(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "coordinates" {
                    round_numbers(x);
                } else if k != "properties" {
                    round_coordinates(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(round_coordinates),
        _ => {}
    }
}

fn round_numbers(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(round_numbers),
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                let r = (f * 1e5).round() / 1e5;
                if let Some(m) = serde_json::Number::from_f64(r) {
                    *n = m;
                }
            }
        }
        _ => {}
    }
}

/// Text for inside a `<script type="application/json">`: `</` cannot end it early.
fn script_safe(s: &str) -> String {
    s.replace("</", "<\\/")
}

/// The CSS of Leaflet without its image references (nothing may be fetched).
fn leaflet_css() -> String {
    let mut out = String::with_capacity(LEAFLET_CSS.len());
    let mut rest = LEAFLET_CSS;
    while let Some(i) = rest.find("url(") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find(')').map_or(after.len(), |e| e + 1);
        out.push_str("none");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The words of the page and of its panel in `lang`: the decimal mark, the class and kind
/// values as the reader's words, and the zoom buttons' titles.
fn page_words(lang: Lang) -> Value {
    let gap = |k: GapKind| (k.as_str().to_string(), gap_label(k, lang).to_string());
    match lang {
        Lang::En => serde_json::json!({
            "decimal": ".", "values": {}, "zoomIn": "Zoom in", "zoomOut": "Zoom out", "layers": "Layers",
        }),
        Lang::Sv => {
            let aid: serde_json::Map<String, Value> = ["white", "grey", "black", "mixed"]
                .iter()
                .map(|v| (v.to_string(), Value::from(lang.aid_class(v))))
                .collect();
            let redundancy: serde_json::Map<String, Value> = ["redundant", "single", "none"]
                .iter()
                .map(|v| (v.to_string(), Value::from(lang.redundancy_class(v))))
                .collect();
            let kind: serde_json::Map<String, Value> = GapKind::ALL
                .into_iter()
                .map(|k| {
                    let (v, l) = gap(k);
                    (v, Value::from(l))
                })
                .collect();
            serde_json::json!({
                "decimal": ",",
                "values": {"aid_class": aid, "fibre_redundancy_class": redundancy, "kind": kind},
                "zoomIn": "Zooma in",
                "zoomOut": "Zooma ut",
                "layers": "Lager",
            })
        }
    }
}

/// The page: `title`, a `note` under it (what was aggregated or left out), and `layers`
/// bottom to top, in `lang`.
pub fn map_html(title: &str, note: &str, layers: &[HtmlLayer], lang: Lang) -> String {
    let data = Value::Array(
        layers
            .iter()
            .map(|l| {
                serde_json::json!({
                    "id": l.id,
                    "name": l.name,
                    "data": l.data,
                    "visible": l.visible,
                    "legend": l.legend,
                    "title": l.title_field,
                    "fields": l.fields,
                    "outline": l.outline,
                })
            })
            .collect(),
    );
    let data = script_safe(&data.to_string());
    let words = script_safe(&page_words(lang).to_string());
    let find = lang.pick("Find a settlement", "Sök en ort");
    // The search box's example: the first settlement with a name on this map (not a Swedish
    // town on a map of Norway).
    let named = layers.iter().find(|l| l.id == "settlements").and_then(|l| {
        l.data["features"]
            .as_array()?
            .iter()
            .filter_map(|f| f["properties"][l.title_field.as_str()].as_str())
            .find(|n| !n.trim().is_empty())
            .map(str::to_string)
    });
    let example = esc(&match (named, lang) {
        (Some(n), Lang::En) => format!("name, e.g. {n}"),
        (Some(n), Lang::Sv) => format!("namn, t.ex. {n}"),
        (None, _) => lang.pick("name", "namn").to_string(),
    });
    let hint = lang.pick(
        "Click a settlement, gap, corridor or project for its figures.",
        "Klicka på en ort, en lucka, en korridor eller ett projekt för att se dess siffror.",
    );
    let credit = lang.pick(
        "Map: gapmap, Leaflet (BSD-2-Clause). No data leaves this file.",
        "Karta: gapmap, Leaflet (BSD-2-Clause). Inga data lämnar den här filen.",
    );
    format!(
        r#"<!DOCTYPE html>
<html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
<style>{PAGE_CSS}</style>
</head><body>
<div id="side">
<h1>{title}</h1>
<p class="note">{note}</p>
<label for="search">{find}</label>
<input id="search" list="names" placeholder="{example}" autocomplete="off">
<datalist id="names"></datalist>
<div id="panel"><p class="hint">{hint}</p></div>
<div id="legend"></div>
<p class="credit">{credit}</p>
</div>
<div id="map"></div>
<script type="application/json" id="words">{words}</script>
<script type="application/json" id="data">{data}</script>
<script>/* Leaflet's licence:
{licence}*/
{js}</script>
<script>{PAGE_JS}</script>
</body></html>
"#,
        code = lang.code(),
        title = esc(title),
        note = esc(note),
        css = leaflet_css(),
        js = script_safe(LEAFLET_JS),
        licence = script_safe(&LEAFLET_LICENSE.replace("*/", "* /")),
    )
}

const PAGE_CSS: &str = r#"
html,body{margin:0;height:100%;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2731}
body{display:flex}
#side{width:340px;flex:0 0 340px;overflow:auto;padding:12px 14px;box-sizing:border-box;border-right:1px solid #cfd6de;background:#fff}
#side h1{font-size:18px;margin:0 0 4px}
.note{font-size:12px;color:#4a5a6a;margin:0 0 10px}
label{font-size:12px;font-weight:600;display:block;margin-top:6px}
#search{width:100%;box-sizing:border-box;padding:6px;margin:4px 0 10px;font-size:14px}
#panel{border-top:2px solid #1d3557;padding-top:6px;min-height:80px}
#panel h2{font-size:16px;margin:4px 0}
#panel table{border-collapse:collapse;font-size:13px;width:100%}
#panel td{padding:2px 4px;border-bottom:1px solid #e3e8ee}
#panel td.v{text-align:right;font-variant-numeric:tabular-nums}
.hint{font-size:12px;color:#4a5a6a}
#legend{margin-top:12px;font-size:12px}
#legend h3{font-size:13px;margin:8px 0 2px}
#legend .sw{display:inline-block;width:12px;height:12px;border:1px solid #555;margin-right:5px;vertical-align:middle}
.credit{font-size:11px;color:#6a7a8a;margin-top:14px}
#map{flex:1;height:100%;background:#f4f6f8}
.leaflet-container{background:#f4f6f8}
"#;

const PAGE_JS: &str = r#"
(function () {
  const layers = JSON.parse(document.getElementById('data').textContent);
  // The page's language: decimal mark, class values as words, zoom titles.
  const words = JSON.parse(document.getElementById('words').textContent);
  const map = L.map('map', { preferCanvas: true, zoomSnap: 0.25, attributionControl: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: words.zoomIn, zoomOutTitle: words.zoomOut }).addTo(map);
  const panel = document.getElementById('panel');
  const overlays = {};
  const byId = {};
  const byName = {};
  // Shares (share_*) as percentages with one decimal, as the report's tables; other numbers
  // whole or with one decimal; text as it is.
  const dec = (t) => t.replace('.', words.decimal);
  const fmt = (k, v) => {
    if (v === null || v === undefined || v === '') return '–';
    if (typeof v === 'number') {
      if (k.startsWith('share_')) return dec((v * 100).toFixed(1)) + ' %';
      if (Number.isInteger(v)) return String(v);
      return dec(Math.abs(v) < 1 ? v.toPrecision(2) : v.toFixed(1));
    }
    const named = (words.values[k] || {})[v];
    if (named !== undefined) return named;
    // Lists (settlement ids or names) are separated by ';' in the tables.
    return String(v).split(';').join(', ');
  };
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  function show(layer, props) {
    const title = props[layer.title] ?? layer.name;
    let h = '<h2 data-layer="' + esc(layer.id) + '">' + esc(fmt(layer.title, title)) + '</h2><p class="hint">' + esc(layer.name) + '</p><table>';
    for (const [k, label] of layer.fields) {
      h += '<tr><td>' + esc(label) + '</td><td class="v" data-field="' + esc(k) + '">' + esc(fmt(k, props[k])) + '</td></tr>';
    }
    panel.innerHTML = h + '</table>';
  }
  const bounds = L.latLngBounds([]);
  for (const layer of layers) {
    const g = L.geoJSON(layer.data, {
      style: (f) => {
        const p = f.properties || {};
        if (layer.outline) return { color: '#5b6770', weight: layer.id === 'lan' ? 2 : 1, fill: true, fillOpacity: 0 };
        return {
          color: p.stroke || '#555', weight: p['stroke-width'] ?? 1, opacity: p['stroke-opacity'] ?? 1,
          fillColor: p.fill || '#999', fillOpacity: p['fill-opacity'] ?? 0.6,
          fill: f.geometry && !/LineString/.test(f.geometry.type),
        };
      },
      pointToLayer: (f, ll) => L.circleMarker(ll, { radius: (f.properties || {}).radius || 3 }),
      onEachFeature: (f, l) => l.on('click', (e) => { L.DomEvent.stopPropagation(e); show(layer, f.properties || {}); }),
    });
    overlays[layer.name] = g;
    byId[layer.id] = g;
    byName[layer.name] = g;
    if (layer.visible) g.addTo(map);
    if (layer.data.features && layer.data.features.length) bounds.extend(g.getBounds());
  }
  const control = L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  // Leaflet names its (hidden) layer button in English.
  const toggle = control.getContainer().querySelector('.leaflet-control-layers-toggle');
  if (toggle) toggle.title = words.layers;
  L.control.scale({ imperial: false }).addTo(map);
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] }); else map.setView([60, 15], 6);
  // Legend.
  const legend = document.getElementById('legend');
  let lh = '';
  for (const layer of layers) {
    if (!layer.legend.length) continue;
    lh += '<h3>' + esc(layer.name) + '</h3>';
    // Boundaries are drawn as outlines, and so are their swatches.
    const swatch = (c) => (layer.outline ? 'background:none;border:2px solid ' : 'background:') + esc(c);
    for (const [c, label] of layer.legend) lh += '<div><span class="sw" style="' + swatch(c) + '"></span>' + esc(label) + '</div>';
  }
  legend.innerHTML = lh;
  // Search: settlements by name.
  const settlements = layers.find((l) => l.id === 'settlements');
  const names = document.getElementById('names');
  const index = new Map();
  if (settlements) {
    for (const f of settlements.data.features) {
      const n = (f.properties || {})[settlements.title];
      if (n && !index.has(n.toLowerCase())) {
        index.set(n.toLowerCase(), f);
        const o = document.createElement('option');
        o.value = n;
        names.appendChild(o);
      }
    }
  }
  const search = document.getElementById('search');
  function find() {
    const f = index.get(search.value.trim().toLowerCase());
    if (!f || !settlements) return;
    const b = L.geoJSON(f).getBounds();
    if (b.isValid()) map.fitBounds(b, { maxZoom: 13, padding: [20, 20] });
    show(settlements, f.properties || {});
  }
  search.addEventListener('change', find);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') find(); });
  window.gapmap = { map, layers: byId, byName, data: layers, show };
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained() {
        let layer = HtmlLayer {
            id: "settlements".into(),
            name: "Settlements".into(),
            data: serde_json::json!({"type":"FeatureCollection","features":[
                {"type":"Feature","properties":{"settlement_name":"A</script>","premises":3},
                 "geometry":{"type":"Polygon","coordinates":[[[15.123456789,60.0],[15.2,60.0],[15.2,60.1],[15.123456789,60.0]]]}}]}),
            visible: true,
            legend: vec![("#ff0000".into(), "red".into())],
            title_field: "settlement_name".into(),
            fields: vec![("premises".into(), "premises".into())],
            outline: false,
        };
        let mut l = layer.clone();
        round_coordinates(&mut l.data);
        assert_eq!(
            l.data["features"][0]["geometry"]["coordinates"][0][0][0],
            serde_json::json!(15.12346)
        );
        let html = map_html("T <x>", "n", &[l.clone()], Lang::En);
        assert!(html.contains("<html lang=\"en\">") && html.contains("Find a settlement"));
        // Leaflet's licence travels with its code.
        assert!(html.contains("Redistributions in binary form must reproduce"));
        let sv = map_html("T", "n", &[l], Lang::Sv);
        assert!(sv.contains("<html lang=\"sv\">") && sv.contains("Sök en ort"));
        assert!(sv.contains("\"no_fibre\":\"Utan fiber (endast 4G)\""));
        // Nothing to fetch: outside the inline scripts (Leaflet's code names tile and image
        // sources it never loads here; the browser test checks that no request is made), no
        // element or style refers to anything.
        let mut markup = String::new();
        let mut rest = html.as_str();
        while let Some(i) = rest.find("<script") {
            markup.push_str(&rest[..i]);
            let end = rest[i..]
                .find("</script>")
                .map_or(rest.len(), |e| i + e + 9);
            rest = &rest[end..];
        }
        markup.push_str(rest);
        for bad in ["src=", "<link", "url(", "@import", "href="] {
            assert!(!markup.contains(bad), "map.html contains {bad}");
        }
        // The data cannot close its script element.
        assert!(!html.contains("A</script>"));
        assert!(html.contains("T &lt;x&gt;"));
    }

    #[test]
    fn the_search_example_is_a_settlement_of_the_map() {
        let layer = |names: &[&str]| HtmlLayer {
            id: "settlements".into(),
            name: "Settlements".into(),
            data: serde_json::json!({"type":"FeatureCollection","features": names.iter().map(|n|
                serde_json::json!({"type":"Feature","properties":{"settlement_name":n},"geometry":null})
            ).collect::<Vec<_>>()}),
            visible: true,
            legend: Vec::new(),
            title_field: "settlement_name".into(),
            fields: Vec::new(),
            outline: false,
        };
        let html = map_html(
            "T",
            "n",
            &[layer(&["", "Kongsberg \"N\"", "Notodden"])],
            Lang::En,
        );
        assert!(
            html.contains("placeholder=\"name, e.g. Kongsberg &quot;N&quot;\""),
            "{html}"
        );
        assert!(!html.contains("Falun"));
        let sv = map_html("T", "n", &[layer(&["Rjukan"])], Lang::Sv);
        assert!(sv.contains("placeholder=\"namn, t.ex. Rjukan\""));
        // No named settlement: no example.
        let none = map_html("T", "n", &[layer(&[""])], Lang::En);
        assert!(none.contains("placeholder=\"name\""));
    }
}
