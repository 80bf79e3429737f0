//! Deutsch.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day}. {month} {year}, {time} UTC",
    code_mail_subject: "{organization}: Ihr Bestätigungscode",
    code_mail_body: "Ihr Bestätigungscode lautet: {code}\n\n\
        Er gilt {minutes, plural, one {# Minute} other {# Minuten}}. Angefordert bei \"{kiosk}\", \
        um Ihr Passwort zurückzusetzen oder Ihr Konto zu entsperren.\n\n\
        Wenn Sie das nicht waren, geben Sie den Code nicht weiter und melden Sie sich beim Helpdesk.\n",
    my_security_info: "Meine Sicherheitsinformationen",
    notice_reset: "Ihr Passwort wurde geändert",
    notice_unlock: "Ihr Konto wurde entsperrt",
    notice_subject: "{organization}: {what}",
    notice_body: "Hallo {name},\n\n{what} ({user}), am Kiosk \"{kiosk}\" am {when}.\n\
        Referenz: {reference}\n\n\
        Wenn Sie das nicht waren, wenden Sie sich sofort an den Helpdesk: {helpdesk}\n",
    your_helpdesk: "Ihren IT-Helpdesk",
    admin_notice_subject: "{organization}: Administrator {user} hat das eigene Passwort zurückgesetzt",
    admin_notice_body: "Der Administrator {name} ({user}) hat sein Passwort am {when} am Kiosk \
        \"{kiosk}\" per Selbstbedienung zurückgesetzt.\nReferenz: {reference} (sspr-server audit --ref {reference})\n\n\
        Wenn das unerwartet ist, behandeln Sie es als Sicherheitsvorfall.\n",
    info_subject: "{organization}: Ihre Sicherheitsinformationen wurden geändert",
    info_body: "Hallo {name},\n\n{what} (\"Meine Sicherheitsinformationen\", {when}).\n\n\
        Wenn Sie das nicht waren, wenden Sie sich sofort an den Helpdesk.\n",
    info_body_helpdesk: "Hallo {name},\n\n{what} (\"Meine Sicherheitsinformationen\", {when}).\n\n\
        Wenn Sie das nicht waren, wenden Sie sich sofort an den Helpdesk: {helpdesk}\n",
    info_passkey_added: "Ein Passkey namens \"{label}\" wurde Ihrem Konto hinzugefügt",
    info_totp_added: "Eine Authenticator-App wurde Ihrem Konto hinzugefügt",
    info_email_added: "Die weitere E-Mail-Adresse {label} wurde Ihrem Konto hinzugefügt",
    info_mobile_added: "Die Mobilnummer {label} wurde Ihrem Konto hinzugefügt",
    info_office_added: "Die Büronummer {label} wurde Ihrem Konto hinzugefügt",
    info_questions_set: "Ihre Sicherheitsfragen wurden eingerichtet oder geändert",
    info_passkey_removed: "Der Passkey \"{label}\" wurde entfernt",
    info_totp_removed: "Eine Authenticator-App wurde entfernt",
    info_email_removed: "Die weitere E-Mail-Adresse {label} wurde entfernt",
    info_mobile_removed: "Die Mobilnummer {label} wurde entfernt",
    info_office_removed: "Die Büronummer {label} wurde entfernt",
    info_questions_removed: "Ihre Sicherheitsfragen wurden entfernt",
    info_cleared: "Der Helpdesk hat alle Ihre Methoden entfernt: Melden Sie sich bei \"Meine Sicherheitsinformationen\" an und richten Sie sie neu ein",
    sms_code: "{code} ist Ihr Code von {organization} zum Zurücksetzen des Passworts. Gültig {minutes} Min. Geben Sie ihn niemandem weiter.",
    sms_my_code: "{code} ist Ihr Code von {organization} für Meine Sicherheitsinformationen. Gültig {minutes} Min. Geben Sie ihn niemandem weiter.",
    voice_language: "de-DE",
    voice_intro: "Ihr Code von {organization} lautet:",
    voice_again: "Noch einmal:",
    q_count: "{n, plural, one {beantworten Sie die Frage} other {beantworten Sie alle # Fragen}}",
    q_twice: "jede Frage darf nur einmal gewählt werden",
    q_unknown: "„{question}“ ist keine Frage der Organisation",
    q_own_not_allowed: "die Organisation erlaubt keine eigenen Fragen",
    q_own_question: "eine eigene Frage hat 10 bis {max} Zeichen, ohne Steuerzeichen",
    q_too_short: "eine Antwort hat mindestens {min} Zeichen",
    q_too_long: "eine Antwort hat höchstens {max} Zeichen",
    q_control: "eine Antwort darf keine Steuerzeichen enthalten",
    q_same: "jede Antwort muss sich von den anderen unterscheiden",
    q_contains: "eine Antwort darf ihre Frage nicht enthalten und keines ihrer Wörter sein",
    q_one_question: "jede Antwort nennt genau eine Frage: eine aus der Liste (id) oder eine eigene (own)",
    months: [
        "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
        "Oktober", "November", "Dezember",
    ],
    questions: [
        "Wie hieß Ihr erstes Haustier?",
        "In welcher Straße haben Sie als Kind gewohnt?",
        "Wie lautete der Nachname Ihrer ersten Lehrkraft?",
        "Wie hieß Ihr bester Freund oder Ihre beste Freundin als Kind mit Vornamen?",
        "Welche Band oder welchen Künstler haben Sie bei Ihrem ersten Konzert gesehen?",
        "In welcher Stadt hatten Sie Ihre erste Arbeitsstelle?",
        "Was war als Kind Ihr Lieblingsbuch?",
        "Welche Marke und welches Modell hatte Ihr erstes Auto oder Fahrrad?",
        "In welcher Stadt haben sich Ihre Eltern kennengelernt?",
        "Wie war Ihr Spitzname als Kind?",
    ],
};
