//! Phone numbers for SMS codes: parsed with the `phonenumber` crate (a port of Google's
//! libphonenumber and its metadata) in the organisation's default region, kept in E.164,
//! shown masked. Only numbers that can take a text message (mobile, or a number the
//! metadata can't tell from one) in an allowed country pass: premium-rate, shared-cost,
//! toll-free and unknown numbers are refused with the reason, and the country allow-list
//! keeps SMS pumping to foreign premium ranges out.

use std::str::FromStr;

use phonenumber::country;
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber, Type};

/// Why a number can't receive codes here (for the person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProblem {
    NotANumber,
    /// Valid, but not one that takes a text message (a landline, premium rate, ...).
    NotMobile(&'static str),
    /// A country the organisation doesn't send to.
    Country(String),
}

impl std::fmt::Display for PhoneProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhoneProblem::NotANumber => write!(
                f,
                "That isn't a phone number we can use: type it with its country code, such as +49 151 2345 6789."
            ),
            PhoneProblem::NotMobile(kind) => write!(
                f,
                "That is a {kind} number; codes go by text message to a mobile number."
            ),
            PhoneProblem::Country(c) => write!(
                f,
                "Numbers in {c} can't receive codes here; use a number of a country your organisation allows."
            ),
        }
    }
}

/// A region code ("DE") as the crate knows it.
pub fn region(code: &str) -> Option<country::Id> {
    country::Id::from_str(&code.to_ascii_uppercase()).ok()
}

/// Parses `input` (with or without a country code, spaces, dashes, brackets) in
/// `default_region`, and returns it in E.164 if it can take a text message in one of
/// `allowed` (region codes; empty: any).
pub fn mobile(
    input: &str,
    default_region: &str,
    allowed: &[String],
) -> Result<String, PhoneProblem> {
    let input = input.trim();
    if input.is_empty()
        || input.chars().count() > 32
        || !input
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
    {
        return Err(PhoneProblem::NotANumber);
    }
    let number: PhoneNumber =
        phonenumber::parse(region(default_region), input).map_err(|_| PhoneProblem::NotANumber)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneProblem::NotANumber);
    }
    match number.number_type(&DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile => {}
        Type::FixedLine => return Err(PhoneProblem::NotMobile("landline")),
        Type::PremiumRate => return Err(PhoneProblem::NotMobile("premium-rate")),
        Type::TollFree => return Err(PhoneProblem::NotMobile("toll-free")),
        Type::SharedCost => return Err(PhoneProblem::NotMobile("shared-cost")),
        Type::Voip => return Err(PhoneProblem::NotMobile("internet (VoIP)")),
        Type::Pager => return Err(PhoneProblem::NotMobile("pager")),
        _ => return Err(PhoneProblem::NotMobile("special")),
    }
    let country = number
        .country()
        .id()
        .map(|c| format!("{c:?}"))
        .unwrap_or_default();
    if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&country)) {
        return Err(PhoneProblem::Country(if country.is_empty() {
            "that country".into()
        } else {
            country
        }));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// An office number for calls: any number a call reaches (a landline, a mobile), not a
/// premium-rate, shared-cost or VoIP one, in an allowed country, with an optional
/// extension ("030 1234567 ext. 89", "+49 30 1234567 x89", "+49301234567;ext=89").
/// Returned as E.164, with ";ext=NN" when there is one.
pub fn office(
    input: &str,
    default_region: &str,
    allowed: &[String],
) -> Result<String, PhoneProblem> {
    let lower = input.trim().to_ascii_lowercase();
    let (number, extension) = [";ext=", "extension", "ext.", "ext", "x", "#"]
        .iter()
        .find_map(|sep| {
            lower
                .rsplit_once(sep)
                .map(|(n, e)| (n.trim().to_string(), e.trim().to_string()))
        })
        .unwrap_or((lower.clone(), String::new()));
    if extension.len() > 8 || !extension.chars().all(|c| c.is_ascii_digit()) {
        return Err(PhoneProblem::NotANumber);
    }
    if number.is_empty()
        || number.chars().count() > 32
        || !number
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
    {
        return Err(PhoneProblem::NotANumber);
    }
    let parsed: PhoneNumber = phonenumber::parse(region(default_region), &number)
        .map_err(|_| PhoneProblem::NotANumber)?;
    if !phonenumber::is_valid(&parsed) {
        return Err(PhoneProblem::NotANumber);
    }
    match parsed.number_type(&DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile | Type::FixedLine => {}
        Type::PremiumRate => return Err(PhoneProblem::NotMobile("premium-rate")),
        Type::SharedCost => return Err(PhoneProblem::NotMobile("shared-cost")),
        Type::Voip => return Err(PhoneProblem::NotMobile("internet (VoIP)")),
        _ => return Err(PhoneProblem::NotMobile("special")),
    }
    let country = parsed
        .country()
        .id()
        .map(|c| format!("{c:?}"))
        .unwrap_or_default();
    if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&country)) {
        return Err(PhoneProblem::Country(country));
    }
    let e164 = parsed.format().mode(Mode::E164).to_string();
    Ok(if extension.is_empty() {
        e164
    } else {
        format!("{e164};ext={extension}")
    })
}

/// The calling code of a region, as "+49" ("+" when the region is unknown).
pub fn calling_code(region_code: &str) -> String {
    region(region_code)
        .and_then(|id| DATABASE.by_id(id.as_ref()))
        .map(|m| format!("+{}", m.country_code()))
        .unwrap_or_else(|| "+".into())
}

/// `+4915112345678` as `+49 ••• •••• 78`: the country code and the last two digits.
pub fn mask(e164: &str) -> String {
    let e164 = e164.split(';').next().unwrap_or(e164);
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    let code_len = phonenumber::parse(None, e164)
        .map(|n| n.code().value().to_string().len())
        .unwrap_or(2)
        .min(digits.len());
    let (code, rest) = digits.split_at(code_len);
    let tail: String = rest.iter().rev().take(2).rev().collect();
    format!("+{} ••• •••• {tail}", code.iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Vec<String> {
        vec!["DE".into()]
    }

    #[test]
    fn mobile_numbers_in_e164_and_the_rest_refused_with_reasons() {
        for typed in [
            "0151 12345678",
            "+49 151 12345678",
            "(0151) 123-456-78",
            "+4915112345678",
        ] {
            assert_eq!(
                mobile(typed, "DE", &de()),
                Ok("+4915112345678".into()),
                "{typed}"
            );
        }
        assert_eq!(
            mobile("030 1234567", "DE", &de()),
            Err(PhoneProblem::NotMobile("landline"))
        );
        assert_eq!(
            mobile("0900 1234567", "DE", &de()),
            Err(PhoneProblem::NotMobile("premium-rate"))
        );
        assert!(matches!(
            mobile("+44 7400 123456", "DE", &de()),
            Err(PhoneProblem::Country(c)) if c == "GB"
        ));
        assert_eq!(
            mobile("+44 7400 123456", "DE", &[]),
            Ok("+447400123456".into())
        );
        for bad in [
            "",
            "hello",
            "12",
            "+49 151 1234567890123456789",
            "0151<script>",
        ] {
            assert_eq!(
                mobile(bad, "DE", &de()),
                Err(PhoneProblem::NotANumber),
                "{bad}"
            );
        }
        assert!(mobile(&"1".repeat(1_000_000), "DE", &de()).is_err());
    }

    #[test]
    fn office_numbers_with_extensions() {
        assert_eq!(
            office("030 1234567", "DE", &de()),
            Ok("+49301234567".into())
        );
        for typed in [
            "030 1234567 ext. 89",
            "+49 30 1234567 x89",
            "+49301234567;ext=89",
            "030 1234567 #89",
        ] {
            assert_eq!(
                office(typed, "DE", &de()),
                Ok("+49301234567;ext=89".into()),
                "{typed}"
            );
        }
        assert_eq!(
            office("0151 12345678", "DE", &de()),
            Ok("+4915112345678".into())
        );
        assert_eq!(
            office("0900 1234567", "DE", &de()),
            Err(PhoneProblem::NotMobile("premium-rate"))
        );
        assert!(office("030 1234567 ext abc", "DE", &de()).is_err());
        assert_eq!(mask("+49301234567;ext=89"), "+49 ••• •••• 67");
    }

    #[test]
    fn masked_shows_the_country_and_two_digits() {
        assert_eq!(mask("+4915112345678"), "+49 ••• •••• 78");
        assert_eq!(mask("+12025550143"), "+1 ••• •••• 43");
        assert_eq!(calling_code("DE"), "+49");
        assert_eq!(calling_code("gb"), "+44");
    }
}
