//! The configuration's defaults, validation and example file.

use super::*;

#[test]
fn defaults_are_entras_numbers() {
    let c = Config::default();
    assert!(c.validate().is_ok());
    assert_eq!(
        c.throttle.failed_verifications,
        Limit {
            max: 5,
            window_secs: DAY
        }
    );
    assert_eq!(
        c.throttle.emails,
        Limit {
            max: 10,
            window_secs: 600
        }
    );
    assert_eq!(c.password.min_length, 15);
    assert_eq!(c.password.max_length, 256);
    assert_eq!(c.policy.reconfirm_days, 180);
}

/// What `validate` says of a configuration it refuses.
fn refusal(c: &Config) -> String {
    c.validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn bad_values_are_refused_with_the_key_named() {
    let mut c = Config::default();
    c.policy.methods_required = 3;
    assert!(refusal(&c).contains("methods_required"), "{}", refusal(&c));
    let mut c = Config::default();
    c.policy.reconfirm_days = 731;
    assert!(refusal(&c).contains("reconfirm_days"), "{}", refusal(&c));
    c.policy.reconfirm_days = 0;
    assert!(c.validate().is_ok());
    c.store.audit_retention_days = 40_000;
    assert!(
        refusal(&c).contains("audit_retention_days"),
        "{}",
        refusal(&c)
    );
}

#[test]
fn example_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sspr-server.example.toml");
    let config = Config::load(Some(&path));
    assert!(config.is_ok(), "{:?}", config.err());
}

/// Numbers come from registrations unless the policy says otherwise; a policy without a
/// source for them can't enable text messages or calls; a policy saved before the key
/// existed reads as "registered".
#[test]
fn numbers_come_from_a_named_source() {
    let c = Config::default();
    assert_eq!(c.policy.numbers_from, vec![NumberSource::Registered]);
    let mut c = Config::default();
    c.policy.numbers_from = Vec::new();
    assert!(c.validate().is_ok(), "no sms or voice: no source needed");
    c.policy.methods.push(sspr_proto::MethodKind::Sms);
    c.sms.provider.push(
        toml::from_str("name = \"k\"\nkind = \"kannel\"\nurl = \"http://127.0.0.1:13013\"\n")
            .expect("a gateway"),
    );
    assert!(refusal(&c).contains("numbers_from"), "{}", refusal(&c));
    c.policy.numbers_from = vec![NumberSource::Directory, NumberSource::Directory];
    assert!(refusal(&c).contains("numbers_from"), "{}", refusal(&c));
    c.policy.numbers_from = vec![NumberSource::Directory, NumberSource::Registered];
    assert!(c.validate().is_ok(), "{}", refusal(&c));

    let read: PolicyConfig =
        toml::from_str("numbers_from = [\"registered\", \"directory\"]\n").expect("both sources");
    assert_eq!(
        read.numbers_from,
        vec![NumberSource::Registered, NumberSource::Directory]
    );
    let old: PolicyConfig = toml::from_str("methods_required = 1\n").expect("an older policy");
    assert_eq!(old.numbers_from, vec![NumberSource::Registered]);
    assert!(toml::from_str::<PolicyConfig>("numbers_from = [\"ldap\"]\n").is_err());
}

/// Security questions are never enough on their own, and their settings are checked.
#[test]
fn questions_are_refused_where_they_could_be_enough() {
    let mut c = Config::default();
    c.policy.methods = vec![
        sspr_proto::MethodKind::Email,
        sspr_proto::MethodKind::Totp,
        sspr_proto::MethodKind::Questions,
    ];
    assert!(
        refusal(&c).contains("never enough on their own"),
        "{}",
        refusal(&c)
    );
    c.policy.methods_required = 2;
    assert!(c.validate().is_ok(), "{}", refusal(&c));
    c.policy.questions.ask = 4;
    assert!(refusal(&c).contains("questions.ask"), "{}", refusal(&c));
    c.policy.questions.ask = 3;
    c.policy.questions.register = 6;
    assert!(
        refusal(&c).contains("questions.register"),
        "{}",
        refusal(&c)
    );
    c.policy.questions.register = 3;
    c.policy.questions.list.truncate(2);
    assert!(refusal(&c).contains("own_allowed"), "{}", refusal(&c));
    c.policy.questions.own_allowed = true;
    assert!(c.validate().is_ok(), "{}", refusal(&c));
    c.policy.questions.list[1].id = c.policy.questions.list[0].id.clone();
    assert!(refusal(&c).contains("twice"), "{}", refusal(&c));
    c.policy.questions.list[1].id = "Not An Id".into();
    assert!(refusal(&c).contains("a-z"), "{}", refusal(&c));
    c.policy.questions.list[1].id = "second".into();
    c.policy.questions.list[1].text.remove("en");
    assert!(refusal(&c).contains("English"), "{}", refusal(&c));
}
