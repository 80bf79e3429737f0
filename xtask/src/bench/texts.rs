//! Codes texted through Kannel, read back where a person's phone would get them: from
//! what the fake SMSC (standing in for the operator) received. The fake SMSC prints each
//! message it gets as a line of its output file; one task follows that file as it grows
//! (it is never read whole again) and files each code under the number it went to.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use sspr_tests::kannel::Sms;

use super::mail::{Codes, Filing};

/// How long the follower sleeps when the file has nothing new: at most this much of the
/// "text" step is the bench's own waiting.
const POLL: Duration = Duration::from_millis(1);

/// The code in a code's text message: the first run of `length` digits.
fn code_in(text: &str, length: usize) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == length)
        .map(str::to_string)
}

/// Files the codes of every message the fake SMSC prints to `log` from now on (and
/// those already there), `length` digits each.
pub fn start(log: &Path, length: usize) -> anyhow::Result<Codes> {
    let file = std::fs::File::open(log)
        .with_context(|| format!("opening the fake SMSC's output {}", log.display()))?;
    Ok(Codes::fed_by("text message", move |filed| {
        follow(BufReader::new(file), length, filed)
    }))
}

async fn follow(mut file: BufReader<std::fs::File>, length: usize, filed: Filing) {
    let mut line = Vec::new();
    loop {
        // A read of a local file at its end returns at once: no need for a blocking
        // thread. A line still being written is kept and completed by the next reads.
        match file.read_until(b'\n', &mut line) {
            Ok(0) => tokio::time::sleep(POLL).await,
            Ok(_) if !line.ends_with(b"\n") => {}
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                if let Some(sms) = Sms::from_fakesmsc_line(&text) {
                    if let Some(code) = code_in(&sms.text, length) {
                        filed.file(sms.to, code);
                    }
                }
                line.clear();
            }
            Err(e) => {
                crate::bench::progress(format!("reading the fake SMSC's output: {e}"));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_in_the_servers_text() {
        let line = "2024-05-01 10:00:00 [123] [0] DEBUG: Got message 7: <SSPR +4915100000007 \
                    text 482913 is your Bench Org password reset code. It expires in 5 min. \
                    Don't share it.>\n";
        let sms = Sms::from_fakesmsc_line(line).expect("a message");
        assert_eq!(sms.to, "+4915100000007");
        assert_eq!(code_in(&sms.text, 6).as_deref(), Some("482913"));
        assert_eq!(code_in("ready", 6), None);
    }
}
