// App commands are declared here so Tauri generates a permission for each; the kiosk
// window's capability (capabilities/kiosk.json) grants exactly these and nothing else.
const COMMANDS: &[&str] = &[
    "kiosk_status",
    "kiosk_mode",
    "leave",
    "start_flow",
    "request_code",
    "code_delivery",
    "verify_code",
    "answer_questions",
    "check_password",
    "set_password",
    "unlock_account",
    "cancel_flow",
    "wipe",
    "qr_matrix",
    "start_approval",
    "stop_approval",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
