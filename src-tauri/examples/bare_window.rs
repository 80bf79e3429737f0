//! A bare Tauri 2 window: the same configuration and runtime as the kiosk, a page with one
//! line of text and no commands. `cargo xtask bench kiosk` measures the kiosk against it.

fn main() -> std::process::ExitCode {
    let result = tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("bare.html".into()),
            )
            .title("Bare Tauri window")
            .inner_size(1280.0, 800.0)
            .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare_window: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
