//! QR codes for the helpdesk link (and, later, approval): text in, module rows out.

use qrcode::{Color, EcLevel, QrCode};
use serde::Serialize;

/// A QR code as rows of dark (1) and light (0) modules; the UI draws it on a canvas, so
/// no image or remote URL is needed.
#[derive(Serialize, Debug)]
pub struct QrMatrix {
    pub size: usize,
    pub rows: Vec<String>,
}

pub fn matrix(text: &str) -> Option<QrMatrix> {
    if text.len() > 1024 {
        return None;
    }
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let size = code.width();
    let colors = code.to_colors();
    let rows = colors
        .chunks(size)
        .map(|row| {
            row.iter()
                .map(|c| if *c == Color::Dark { '1' } else { '0' })
                .collect()
        })
        .collect();
    Some(QrMatrix { size, rows })
}
