// No console window on Windows; the kiosk is a GUI program.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    sspr_kiosk::run()
}
