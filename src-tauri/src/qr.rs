//! QR codes for the helpdesk link (and, later, approval): text in, module rows out.

use qrcode::{Color, EcLevel, QrCode};

use crate::commands::kiosk::QrMatrix;

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
