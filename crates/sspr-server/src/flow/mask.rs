//! Masking: enough for the person to recognise their own address, too little for anyone
//! else to learn it.

/// "ada.lovelace@example.org" → "a•••@e•••.org".
pub fn email(address: &str) -> String {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return "•••".into();
    };
    let first = local.chars().next().map(String::from).unwrap_or_default();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let host_first = host.chars().next().map(String::from).unwrap_or_default();
    if tld.is_empty() {
        format!("{first}•••@{host_first}•••")
    } else {
        format!("{first}•••@{host_first}•••.{tld}")
    }
}

/// A login as the phone page names it: an email masked as above, a username as its first
/// and last letters ("a•••a").
pub fn login(login: &str) -> String {
    if login.contains('@') {
        return email(login);
    }
    let mut chars = login.trim().chars();
    match (chars.next(), chars.next_back()) {
        (Some(first), Some(last)) => format!("{first}•••{last}"),
        (Some(first), None) => format!("{first}•••"),
        _ => "•••".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_first_letters_and_tld() {
        assert_eq!(super::email("ada.lovelace@example.org"), "a•••@e•••.org");
        assert_eq!(super::email("x@localhost"), "x•••@l•••");
        assert_eq!(super::email("nonsense"), "•••");
        assert_eq!(super::login("ada"), "a•••a");
        assert_eq!(super::login("ada@example.org"), "a•••@e•••.org");
    }
}
