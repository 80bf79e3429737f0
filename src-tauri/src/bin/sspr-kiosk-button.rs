//! The login screen's button (see `sspr_kiosk::run_button`): started by the display
//! manager's hook as the kiosk's user; it opens `sspr-kiosk --login-screen` when pressed.

fn main() -> std::process::ExitCode {
    sspr_kiosk::run_button()
}
