//! Numbers from the directory: a person's `mobile` and office number as the directory
//! holds them, checked as a registered number is (`methods::phone`: E.164, a number that
//! takes a text message or a call, in a country codes may go to), for identify to offer
//! when the policy takes numbers from the directory (`policy.numbers_from`). A number
//! that doesn't pass is skipped, and the log says why without the number.

use crate::config::SmsConfig;
use crate::directory::DirUser;
use crate::methods::phone::{self, PhoneProblem};

/// A number from the directory that passed: where a code goes (E.164; an office number
/// with ";ext=NN") and how it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryNumber {
    pub target: String,
    pub masked: String,
}

impl DirectoryNumber {
    fn of(e164: String) -> DirectoryNumber {
        DirectoryNumber {
            masked: phone::mask(&e164),
            target: e164,
        }
    }
}

/// A person's usable numbers from the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryNumbers {
    /// For text messages.
    pub mobile: Option<DirectoryNumber>,
    /// For calls that read a code out (its extension dialled).
    pub office: Option<DirectoryNumber>,
}

impl DirectoryNumbers {
    /// The numbers of `user` that can take codes here (in `sms`'s default region and
    /// allowed countries); the others are skipped.
    pub fn of(user: &DirUser, sms: &SmsConfig) -> DirectoryNumbers {
        let allowed = sms.allowed();
        let check =
            |kind: &'static str,
             raw: &Option<String>,
             parse: fn(&str, &str, &[String]) -> Result<String, PhoneProblem>| {
                let raw = raw.as_deref().map(str::trim).filter(|r| !r.is_empty())?;
                match parse(raw, &sms.default_region, &allowed) {
                    Ok(e164) => Some(DirectoryNumber::of(e164)),
                    Err(problem) => {
                        // Why, never the number.
                        tracing::debug!(
                            number = kind,
                            problem = problem_name(&problem),
                            "a number from the directory can't take codes here; skipped"
                        );
                        None
                    }
                }
            };
        DirectoryNumbers {
            mobile: check("mobile", &user.mobile, phone::mobile),
            office: check("office", &user.office_phone, phone::office),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.mobile.is_none() && self.office.is_none()
    }

    /// The same numbers as shown, with nowhere to send: what a decoy that stands in for
    /// this person may keep (the masked number shows only its country and two digits).
    pub fn masked_only(&self) -> DirectoryNumbers {
        let shown = |n: &Option<DirectoryNumber>| {
            n.as_ref().map(|n| DirectoryNumber {
                target: String::new(),
                masked: n.masked.clone(),
            })
        };
        DirectoryNumbers {
            mobile: shown(&self.mobile),
            office: shown(&self.office),
        }
    }
}

/// A problem's name for the log (the country code, for a country not allowed).
fn problem_name(p: &PhoneProblem) -> String {
    match p {
        PhoneProblem::NotANumber => "not a number".into(),
        PhoneProblem::NotMobile(kind) => format!("a {kind} number"),
        PhoneProblem::Country(c) => format!("a country not allowed ({c})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(mobile: Option<&str>, office: Option<&str>) -> DirUser {
        DirUser {
            id: "u".into(),
            dn: "u".into(),
            username: "u".into(),
            email: None,
            display_name: "U".into(),
            given_name: "U".into(),
            surname: "U".into(),
            groups: Vec::new(),
            disabled: false,
            locked: false,
            password_changed_at: None,
            mobile: mobile.map(str::to_string),
            office_phone: office.map(str::to_string),
        }
    }

    /// The directory's numbers pass the checks a registered number passes: read in the
    /// default region, an extension kept, a landline, premium-rate or foreign mobile
    /// number skipped.
    #[test]
    fn directory_numbers_are_checked_as_registered_ones_are() {
        let sms = SmsConfig::default();
        let n = DirectoryNumbers::of(
            &user(Some("0151 1234 5678"), Some("+49 30 1234567 x89")),
            &sms,
        );
        assert_eq!(
            n.mobile,
            Some(DirectoryNumber {
                target: "+4915112345678".into(),
                masked: "+49 ••• •••• 78".into()
            })
        );
        assert_eq!(
            n.office.as_ref().map(|o| o.target.as_str()),
            Some("+49301234567;ext=89")
        );
        // As Entra ID writes them: "+49 301234567x89".
        let entra = DirectoryNumbers::of(&user(None, Some("+49 301234567x89")), &sms);
        assert_eq!(
            entra.office.map(|o| o.target),
            Some("+49301234567;ext=89".to_string())
        );
        for bad in [
            "030 1234567",
            "0900 1234567",
            "+44 7400 123456",
            "call me",
            " ",
        ] {
            let n = DirectoryNumbers::of(&user(Some(bad), Some("0900 1234567")), &sms);
            assert!(n.is_empty(), "{bad}: {n:?}");
        }
        let shown = DirectoryNumbers::of(&user(Some("0151 1234 5678"), None), &sms).masked_only();
        assert_eq!(
            shown.mobile,
            Some(DirectoryNumber {
                target: String::new(),
                masked: "+49 ••• •••• 78".into()
            })
        );
    }
}
