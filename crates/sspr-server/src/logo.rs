//! The organisation's logo, as the policy holds it: a `data:` URL of a PNG or an SVG, at
//! most `MAX_BYTES`. A PNG must decode as one (its header read by the `png` crate); an
//! SVG must be plain drawing: no script, no event handler, no external reference (only
//! `#fragment` links), no embedded document, no DOCTYPE or entities. Anything else is
//! refused with the reason, never cleaned up silently: what the kiosk shows is exactly
//! what the admin uploaded.

use base64::Engine as _;
use quick_xml::events::Event;

/// The largest logo, decoded (its data URL then fits a request body of 64 KiB).
pub const MAX_BYTES: usize = 40 * 1024;

const PNG: &str = "data:image/png;base64,";
const SVG: &str = "data:image/svg+xml;base64,";

/// SVG elements a logo may use: shapes, text, gradients, groups and their kin.
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "defs",
    "lineargradient",
    "radialgradient",
    "stop",
    "title",
    "desc",
    "clippath",
    "mask",
    "use",
    "symbol",
    "pattern",
    "metadata",
];

/// Why `logo` can't be the organisation's logo; None when it can.
pub fn problem(logo: &str) -> Option<String> {
    let (kind, data) = if let Some(d) = logo.strip_prefix(PNG) {
        ("png", d)
    } else if let Some(d) = logo.strip_prefix(SVG) {
        ("svg", d)
    } else {
        return Some(
            "organization.logo must be a PNG or an SVG (a data:image/png;base64 or data:image/svg+xml;base64 URL)".into(),
        );
    };
    if data.len() > MAX_BYTES * 4 / 3 + 4 {
        return Some(format!(
            "organization.logo is over {} KiB; make it smaller",
            MAX_BYTES / 1024
        ));
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else {
        return Some("organization.logo: its base64 doesn't decode".into());
    };
    if bytes.len() > MAX_BYTES {
        return Some(format!(
            "organization.logo is over {} KiB; make it smaller",
            MAX_BYTES / 1024
        ));
    }
    match kind {
        "png" => png_problem(&bytes),
        _ => svg_problem(&bytes),
    }
    .map(|p| format!("organization.logo: {p}"))
}

fn png_problem(bytes: &[u8]) -> Option<String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    match decoder.read_info() {
        Ok(reader) => {
            let info = reader.info();
            (info.width == 0 || info.height == 0 || info.width > 4096 || info.height > 4096)
                .then(|| "a PNG of 1 to 4096 pixels a side".into())
        }
        Err(_) => Some("not a PNG".into()),
    }
}

fn svg_problem(bytes: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("an SVG must be UTF-8 text".into());
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut root_seen = false;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Some(format!("not well-formed XML ({e})")),
        };
        let element = match &event {
            Event::Start(e) | Event::Empty(e) => e.clone(),
            Event::DocType(_) => {
                return Some("a DOCTYPE (entities) isn't allowed in an SVG logo".into())
            }
            Event::PI(_) => {
                return Some("processing instructions aren't allowed in an SVG logo".into())
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = element.local_name().into_inner().to_ascii_lowercase();
        if !root_seen {
            if name != "svg" {
                return Some("an SVG's root element must be <svg>".into());
            }
            root_seen = true;
        }
        if !ELEMENTS.contains(&name.as_str()) {
            return Some(format!(
                "<{name}> isn't allowed in an SVG logo (no script, style, image, foreignObject or animation)"
            ));
        }
        for attr in element.attributes() {
            let Ok(attr) = attr else {
                return Some("an attribute that doesn't parse".into());
            };
            let key = attr.key.local_name().into_inner().to_ascii_lowercase();
            // Character references read as what they stand for (`&#x6A;avascript:`).
            let Ok(value) = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
                return Some("an attribute's value doesn't unescape".into());
            };
            let value = value.to_ascii_lowercase();
            if key.starts_with("on") {
                return Some(format!(
                    "event handlers ({key}) aren't allowed in an SVG logo"
                ));
            }
            if key == "href" && !value.trim_start().starts_with('#') {
                return Some("an SVG logo may link only within itself (href=\"#…\")".into());
            }
            if key == "style" || value.contains("url(") {
                let refs_outside = value
                    .split("url(")
                    .skip(1)
                    .any(|rest| !rest.trim_start_matches(['\'', '"', ' ']).starts_with('#'));
                if refs_outside || value.contains("@import") || value.contains("expression(") {
                    return Some("an SVG logo may refer only to itself (url(#…))".into());
                }
            }
            if value.contains("javascript:") {
                return Some("script isn't allowed in an SVG logo".into());
            }
        }
    }
    (!root_seen).then(|| "an empty SVG".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svg(body: &str) -> String {
        format!(
            "{SVG}{}",
            base64::engine::general_purpose::STANDARD.encode(body)
        )
    }

    #[test]
    fn plain_drawings_pass_and_anything_active_or_external_is_refused() {
        let ok = svg(
            r##"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#0b5cad"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/><text x="1" y="8">Co</text></svg>"##,
        );
        assert_eq!(problem(&ok), None);
        for (bad, why) in [
            (r#"<svg><script>alert(1)</script></svg>"#, "script"),
            (r#"<svg onload="alert(1)"><rect/></svg>"#, "event handlers"),
            (
                r#"<svg><image href="https://evil.example/x.png"/></svg>"#,
                "<image>",
            ),
            (
                r#"<svg><use href="https://evil.example/a.svg#x"/></svg>"#,
                "only within itself",
            ),
            (
                r#"<svg><rect style="fill:url(https://evil.example/p)"/></svg>"#,
                "only to itself",
            ),
            (
                r#"<svg><foreignObject><p>x</p></foreignObject></svg>"#,
                "<foreignobject>",
            ),
            (r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg/>"#, "DOCTYPE"),
            (
                r#"<svg><a href="javascript:alert(1)"><rect/></a></svg>"#,
                "<a>",
            ),
            (r#"<svg><rect fill="&#x6A;avascript:x"/></svg>"#, "script"),
            (r#"<html/>"#, "root"),
            (r#"<svg><rect></svg>"#, "well-formed"),
        ] {
            let p = problem(&svg(bad)).unwrap_or_default();
            assert!(p.contains(why), "{bad}: {p}");
        }
        assert!(problem("https://example.org/logo.png")
            .unwrap_or_default()
            .contains("PNG or an SVG"));
        assert!(problem(&format!("{PNG}AAAA"))
            .unwrap_or_default()
            .contains("not a PNG"));
        let huge = svg(&format!("<svg>{}</svg>", "<g/>".repeat(20_000)));
        assert!(problem(&huge).unwrap_or_default().contains("KiB"));
    }

    #[test]
    fn a_real_png_passes() {
        let mut bytes = Vec::new();
        {
            let mut e = png::Encoder::new(&mut bytes, 2, 2);
            e.set_color(png::ColorType::Rgba);
            e.set_depth(png::BitDepth::Eight);
            let mut w = e.write_header().expect("header");
            w.write_image_data(&[0u8; 16]).expect("data");
        }
        let url = format!(
            "{PNG}{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        assert_eq!(problem(&url), None);
    }
}
