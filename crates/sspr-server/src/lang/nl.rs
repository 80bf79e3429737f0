//! Nederlands.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day} {month} {year}, {time} UTC",
    code_mail_subject: "{organization}: je verificatiecode",
    code_mail_body: "Je verificatiecode is: {code}\n\n\
        Hij is {minutes, plural, one {# minuut} other {# minuten}} geldig. Hij is aangevraagd bij \
        ‘{kiosk}’ om je wachtwoord opnieuw in te stellen of je account te deblokkeren.\n\n\
        Was jij dit niet? Geef de code dan aan niemand en laat het de helpdesk weten.\n",
    my_security_info: "Mijn beveiligingsgegevens",
    notice_reset: "Je wachtwoord is gewijzigd",
    notice_unlock: "Je account is gedeblokkeerd",
    notice_subject: "{organization}: {what}",
    notice_body: "Hallo {name},\n\n{what} ({user}) bij de kiosk ‘{kiosk}’ op {when}.\n\
        Referentie: {reference}\n\n\
        Was jij dit niet? Neem dan meteen contact op met de helpdesk: {helpdesk}\n",
    your_helpdesk: "je IT-helpdesk",
    admin_notice_subject: "{organization}: beheerder {user} heeft het eigen wachtwoord opnieuw ingesteld",
    admin_notice_body: "De beheerder {name} ({user}) heeft het eigen wachtwoord via selfservice \
        opnieuw ingesteld bij de kiosk ‘{kiosk}’ op {when}.\nReferentie: {reference} (sspr-server audit --ref {reference})\n\n\
        Als dit onverwacht is, behandel het dan als een beveiligingsincident.\n",
    info_subject: "{organization}: je beveiligingsgegevens zijn gewijzigd",
    info_body: "Hallo {name},\n\n{what} (‘Mijn beveiligingsgegevens’, {when}).\n\n\
        Was jij dit niet? Neem dan meteen contact op met de helpdesk.\n",
    info_body_helpdesk: "Hallo {name},\n\n{what} (‘Mijn beveiligingsgegevens’, {when}).\n\n\
        Was jij dit niet? Neem dan meteen contact op met de helpdesk: {helpdesk}\n",
    info_passkey_added: "Er is een passkey met de naam ‘{label}’ aan je account toegevoegd",
    info_totp_added: "Er is een authenticator-app aan je account toegevoegd",
    info_email_added: "Het extra e-mailadres {label} is aan je account toegevoegd",
    info_mobile_added: "Het mobiele nummer {label} is aan je account toegevoegd",
    info_office_added: "Het kantoornummer {label} is aan je account toegevoegd",
    info_questions_set: "Je beveiligingsvragen zijn ingesteld of gewijzigd",
    info_passkey_removed: "De passkey ‘{label}’ is verwijderd",
    info_totp_removed: "Er is een authenticator-app verwijderd",
    info_email_removed: "Het extra e-mailadres {label} is verwijderd",
    info_mobile_removed: "Het mobiele nummer {label} is verwijderd",
    info_office_removed: "Het kantoornummer {label} is verwijderd",
    info_questions_removed: "Je beveiligingsvragen zijn verwijderd",
    info_cleared: "De helpdesk heeft al je methoden verwijderd: meld je aan bij ‘Mijn beveiligingsgegevens’ en stel ze opnieuw in",
    sms_code: "{code} is je {organization}-code om je wachtwoord opnieuw in te stellen. Verloopt over {minutes} min. Deel hem met niemand.",
    sms_my_code: "{code} is je {organization}-code voor Mijn beveiligingsgegevens. Verloopt over {minutes} min. Deel hem met niemand.",
    voice_language: "nl-NL",
    voice_intro: "Je code van {organization} is:",
    voice_again: "Nog een keer:",
    q_count: "{n, plural, one {beantwoord de vraag} other {beantwoord alle # vragen}}",
    q_twice: "elke vraag mag maar één keer worden gekozen",
    q_unknown: "‘{question}’ is geen vraag van de organisatie",
    q_own_not_allowed: "de organisatie staat geen eigen vragen toe",
    q_own_question: "een eigen vraag heeft 10 tot {max} tekens, zonder stuurtekens",
    q_too_short: "een antwoord heeft minstens {min, plural, one {# teken} other {# tekens}}",
    q_too_long: "een antwoord heeft hoogstens {max, plural, one {# teken} other {# tekens}}",
    q_control: "een antwoord mag geen stuurtekens bevatten",
    q_same: "elk antwoord moet anders zijn dan de andere",
    q_contains: "een antwoord mag de vraag niet bevatten en geen woord uit de vraag zijn",
    q_one_question: "elk antwoord noemt één vraag: een uit de lijst (id) of een eigen vraag (own)",
    months: [
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
        "oktober", "november", "december",
    ],
    questions: [
        "Hoe heette je eerste huisdier?",
        "In welke straat woonde je als kind?",
        "Wat was de achternaam van je eerste leraar of lerares?",
        "Wat was de voornaam van je beste vriend of vriendin uit je jeugd?",
        "Welke artiest zag je bij je eerste concert?",
        "In welke plaats had je je eerste baan?",
        "Wat was als kind je lievelingsboek?",
        "Wat waren het merk en het model van je eerste auto of fiets?",
        "In welke plaats hebben je ouders elkaar leren kennen?",
        "Wat was je bijnaam als kind?",
    ],
};
