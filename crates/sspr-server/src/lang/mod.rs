//! What the server itself says to a person, in the seven languages the product speaks:
//! emails, text messages, the words a call reads out, the security-question list and the
//! dates in them. Each language is one file of `Texts`; a text missing from one doesn't
//! compile, and `translation_tests` holds each text's placeholders and plural forms
//! against English. Messages use the same ICU subset as the kiosk's and the pages' tables
//! (`{name}`, `{n, plural, one {…} few {…} many {…} other {…}}`), with the CLDR plural
//! rules of these seven written out below: a crate for seven integer rules would be
//! larger than the rules.

mod de;
mod en;
mod es;
mod fr;
mod it;
mod nl;
mod pl;

use time::OffsetDateTime;

/// A language the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    De,
    Fr,
    Es,
    It,
    Nl,
    Pl,
}

impl Lang {
    pub const ALL: [Lang; 7] = [
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::It,
        Lang::Nl,
        Lang::Pl,
    ];

    /// The language of a BCP 47 tag ("de-CH" is German); English for one we don't speak.
    pub fn of(locale: &str) -> Lang {
        Self::known(locale).unwrap_or(Lang::En)
    }

    fn known(locale: &str) -> Option<Lang> {
        let base = locale.split(['-', '_']).next().unwrap_or("").trim();
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(base))
    }

    /// The first language of an `Accept-Language` header we speak, by its q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut wanted: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim();
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, i, tag))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        wanted.into_iter().find_map(|(_, _, tag)| Self::known(tag))
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Nl => "nl",
            Lang::Pl => "pl",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &en::TEXTS,
            Lang::De => &de::TEXTS,
            Lang::Fr => &fr::TEXTS,
            Lang::Es => &es::TEXTS,
            Lang::It => &it::TEXTS,
            Lang::Nl => &nl::TEXTS,
            Lang::Pl => &pl::TEXTS,
        }
    }

    /// The CLDR cardinal plural category of a whole number.
    pub fn plural(self, n: u64) -> &'static str {
        match self {
            Lang::Pl if n == 1 => "one",
            Lang::Pl if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) => "few",
            Lang::Pl => "many",
            Lang::Fr if n <= 1 => "one",
            _ if n == 1 => "one",
            _ => "other",
        }
    }

    /// `text` with its placeholders filled in from `params`.
    pub fn format(self, text: &str, params: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = String::with_capacity(text.len() + 32);
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = matching(rest, open) else {
                break;
            };
            let inner = &rest[open + 1..close];
            match inner.split_once(',') {
                Some((name, cases)) => {
                    let cases = cases.trim_start();
                    let cases = cases.strip_prefix("plural,").unwrap_or(cases);
                    let value = param(params, name.trim());
                    let n = value.trim().parse::<u64>().unwrap_or(0);
                    let form = pick_form(cases, n, self.plural(n));
                    out.push_str(&self.format(&form.replace('#', &value), params));
                }
                None => match params.iter().find(|(k, _)| *k == inner) {
                    Some((_, v)) => out.push_str(&v.to_string()),
                    None => out.push_str(&rest[open..=close]),
                },
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A moment as people of this language write it, in UTC (the server doesn't know the
    /// kiosk's zone), e.g. "7 December 2026, 14:23 UTC".
    pub fn date_time(self, unix: i64) -> String {
        let at = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let t = self.texts();
        let month = t.months[usize::from(u8::from(at.month())) - 1];
        self.format(
            t.date_time,
            &[
                ("day", &at.day()),
                ("month", &month),
                ("year", &at.year()),
                ("time", &format!("{:02}:{:02}", at.hour(), at.minute())),
            ],
        )
    }
}

fn param(params: &[(&str, &dyn std::fmt::Display)], name: &str) -> String {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The form for `n`: `=n` first, then its category, then `other`.
fn pick_form(cases: &str, n: u64, category: &str) -> String {
    let mut forms: Vec<(&str, &str)> = Vec::new();
    let mut rest = cases.trim_start();
    while let Some(open) = rest.find('{') {
        let Some(close) = matching(rest, open) else {
            break;
        };
        forms.push((rest[..open].trim(), &rest[open + 1..close]));
        rest = rest[close + 1..].trim_start();
    }
    let exact = format!("={n}");
    [exact.as_str(), category, "other"]
        .iter()
        .find_map(|want| forms.iter().find(|(k, _)| k == want))
        .map(|(_, v)| (*v).to_string())
        .unwrap_or_default()
}

fn matching(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(open + j);
                }
            }
            _ => {}
        }
    }
    None
}

macro_rules! texts {
    ($($(#[doc = $doc:literal])* $field:ident,)*) => {
        /// Every text the server says to a person, in one language.
        pub struct Texts {
            $($(#[doc = $doc])* pub $field: &'static str,)*
            /// The months' names as a date says them ("7 December", "7 grudnia").
            pub months: [&'static str; 12],
            /// The default security questions, in the order of `DEFAULT_QUESTION_IDS`.
            pub questions: [&'static str; 10],
        }

        impl Texts {
            /// Each text by name (months and questions numbered), for the tests.
            #[cfg(test)]
            pub fn entries(&self) -> Vec<(String, &'static str)> {
                let mut out = vec![$((stringify!($field).to_string(), self.$field),)*];
                out.extend(self.months.iter().enumerate().map(|(i, m)| (format!("month.{}", i + 1), *m)));
                out.extend(self.questions.iter().enumerate().map(|(i, q)| (format!("question.{}", DEFAULT_QUESTION_IDS[i]), *q)));
                out
            }
        }
    };
}

/// The default questions' stable ids (registrations keep them).
pub const DEFAULT_QUESTION_IDS: [&str; 10] = [
    "first-pet",
    "childhood-street",
    "first-teacher",
    "childhood-friend",
    "first-concert",
    "first-job-town",
    "favourite-book",
    "first-car",
    "parents-met",
    "childhood-nickname",
];

texts! {
    /// `{day} {month} {year}, {time} UTC`
    date_time,
    /// A code's email: subject and body.
    code_mail_subject,
    code_mail_body,
    /// Where a "My security info" code was asked for (in place of a kiosk's name).
    my_security_info,
    /// The notice after a reset or unlock.
    notice_reset,
    notice_unlock,
    notice_subject,
    notice_body,
    /// When no helpdesk is configured.
    your_helpdesk,
    /// To every administrator when one reset their password.
    admin_notice_subject,
    admin_notice_body,
    /// "My security info" changed: the subject, the body and what changed.
    info_subject,
    info_body,
    info_body_helpdesk,
    info_passkey_added,
    info_totp_added,
    info_email_added,
    info_mobile_added,
    info_office_added,
    info_questions_set,
    info_passkey_removed,
    info_totp_removed,
    info_email_removed,
    info_mobile_removed,
    info_office_removed,
    info_questions_removed,
    info_cleared,
    /// A code's text message (one SMS: keep it short, the code first).
    sms_code,
    /// A "My security info" code's text message.
    sms_my_code,
    /// A call: the voice's language, its words before the code, and before the repeat.
    voice_language,
    voice_intro,
    voice_again,
    /// Why "My security info" refused security questions (`methods::questions::Problem`).
    q_count,
    q_twice,
    q_unknown,
    q_own_not_allowed,
    q_own_question,
    q_too_short,
    q_too_long,
    q_control,
    q_same,
    q_contains,
    q_one_question,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn table(lang: Lang) -> BTreeMap<String, String> {
        lang.texts()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect()
    }

    #[test]
    fn every_language_says_what_english_says_with_its_placeholders_and_plurals() {
        let en = table(Lang::En);
        let mut problems = crate::translation_tests::problems("en", &en, &en);
        for lang in Lang::ALL.into_iter().skip(1) {
            problems.extend(crate::translation_tests::problems(
                lang.code(),
                &en,
                &table(lang),
            ));
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let codes: Vec<&str> = Lang::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(codes, crate::translation_tests::LANGUAGES);
    }

    /// GSM 03.38's basic alphabet: a text message in it takes 160 characters a part; one
    /// character outside it (ą, ó, ê) makes the whole message UCS-2, 70 a part.
    const GSM7: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡\
        ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà{}";

    #[test]
    fn code_texts_stay_one_text_message_in_every_language() {
        for lang in Lang::ALL {
            let t = lang.texts();
            for text in [t.sms_code, t.sms_my_code] {
                let odd: String = text.chars().filter(|c| !GSM7.contains(*c)).collect();
                assert!(odd.is_empty(), "{}: {odd:?} in {text:?}", lang.code());
                let sent = lang.format(
                    text,
                    &[
                        ("code", &"12345678"),
                        ("organization", &"Example Org"),
                        ("minutes", &5),
                    ],
                );
                assert!(sent.chars().count() <= 160, "{}: {sent:?}", lang.code());
            }
        }
    }

    #[test]
    fn plural_categories_are_cldr_s() {
        let pl: Vec<&str> = [1, 2, 4, 5, 12, 14, 21, 22, 25, 112, 122]
            .into_iter()
            .map(|n| Lang::Pl.plural(n))
            .collect();
        assert_eq!(
            pl,
            ["one", "few", "few", "many", "many", "many", "many", "few", "many", "many", "few"]
        );
        assert_eq!(Lang::Fr.plural(0), "one");
        assert_eq!(Lang::En.plural(0), "other");
        assert_eq!(Lang::De.plural(1), "one");
    }

    #[test]
    fn messages_fill_in_names_and_the_plural_the_number_needs() {
        let text = "Odczekaj {n, plural, one {# minutę} few {# minuty} many {# minut} other {# minuty}} ({who}).";
        let say = |n: u32| Lang::Pl.format(text, &[("n", &n), ("who", &"Ada")]);
        assert_eq!(say(1), "Odczekaj 1 minutę (Ada).");
        assert_eq!(say(3), "Odczekaj 3 minuty (Ada).");
        assert_eq!(say(5), "Odczekaj 5 minut (Ada).");
        assert_eq!(say(22), "Odczekaj 22 minuty (Ada).");
        assert_eq!(Lang::En.format("{missing} stays", &[]), "{missing} stays");
    }

    #[test]
    fn languages_are_read_from_tags_and_accept_language() {
        assert_eq!(Lang::of("de-CH"), Lang::De);
        assert_eq!(Lang::of("pl_PL"), Lang::Pl);
        assert_eq!(Lang::of("ar"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("ar;q=1, fr-CA;q=0.8, en;q=0.5"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("es;q=0.2, nl"), Some(Lang::Nl));
        assert_eq!(Lang::from_accept_language("ja, zh"), None);
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        // 2026-12-07 14:23 UTC
        let at = 1_796_653_380;
        assert_eq!(Lang::En.date_time(at), "7 December 2026, 14:23 UTC");
        assert_eq!(Lang::De.date_time(at), "7. Dezember 2026, 14:23 UTC");
        assert_eq!(Lang::Pl.date_time(at), "7 grudnia 2026, 14:23 UTC");
        assert_eq!(Lang::Fr.date_time(at), "7 décembre 2026 à 14:23 UTC");
    }
}
