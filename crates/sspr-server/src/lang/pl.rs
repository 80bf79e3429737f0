//! Polski.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day} {month} {year}, {time} UTC",
    code_mail_subject: "{organization}: Twój kod weryfikacyjny",
    code_mail_body: "Twój kod weryfikacyjny to: {code}\n\n\
        Jest ważny przez {minutes, plural, one {# minutę} few {# minuty} many {# minut} other {# minuty}}. \
        Poproszono o niego w „{kiosk}”, aby zresetować hasło lub odblokować konto.\n\n\
        Jeśli to nie Ty, nie podawaj nikomu tego kodu i powiadom pomoc techniczną.\n",
    my_security_info: "Moje informacje zabezpieczające",
    notice_reset: "Twoje hasło zostało zmienione",
    notice_unlock: "Twoje konto zostało odblokowane",
    notice_subject: "{organization}: {what}",
    notice_body: "Dzień dobry, {name},\n\n{what} ({user}) przy kiosku „{kiosk}”, {when}.\n\
        Numer referencyjny: {reference}\n\n\
        Jeśli to nie Ty, natychmiast skontaktuj się z pomocą techniczną: {helpdesk}\n",
    your_helpdesk: "dział pomocy technicznej IT",
    admin_notice_subject: "{organization}: administrator {user} zresetował własne hasło",
    admin_notice_body: "Administrator {name} ({user}) samodzielnie zresetował swoje hasło przy \
        kiosku „{kiosk}”, {when}.\nNumer referencyjny: {reference} (sspr-server audit --ref {reference})\n\n\
        Jeśli nikt się tego nie spodziewał, potraktuj to jako incydent bezpieczeństwa.\n",
    info_subject: "{organization}: Twoje informacje zabezpieczające zostały zmienione",
    info_body: "Dzień dobry, {name},\n\n{what} („Moje informacje zabezpieczające”, {when}).\n\n\
        Jeśli to nie Ty, natychmiast skontaktuj się z pomocą techniczną.\n",
    info_body_helpdesk: "Dzień dobry, {name},\n\n{what} („Moje informacje zabezpieczające”, {when}).\n\n\
        Jeśli to nie Ty, natychmiast skontaktuj się z pomocą techniczną: {helpdesk}\n",
    info_passkey_added: "Do Twojego konta dodano klucz dostępu o nazwie „{label}”",
    info_totp_added: "Do Twojego konta dodano aplikację uwierzytelniającą",
    info_email_added: "Do Twojego konta dodano dodatkowy adres e-mail {label}",
    info_mobile_added: "Do Twojego konta dodano numer komórkowy {label}",
    info_office_added: "Do Twojego konta dodano numer służbowy {label}",
    info_questions_set: "Twoje pytania zabezpieczające zostały ustawione lub zmienione",
    info_passkey_removed: "Usunięto klucz dostępu „{label}”",
    info_totp_removed: "Usunięto aplikację uwierzytelniającą",
    info_email_removed: "Usunięto dodatkowy adres e-mail {label}",
    info_mobile_removed: "Usunięto numer komórkowy {label}",
    info_office_removed: "Usunięto numer służbowy {label}",
    info_questions_removed: "Usunięto Twoje pytania zabezpieczające",
    info_cleared: "Pomoc techniczna usunęła wszystkie Twoje metody: zaloguj się do „Moich informacji zabezpieczających” i skonfiguruj je ponownie",
    // Without diacritics, as Polish texts usually are: one ą makes the message UCS-2, 70
    // characters a part instead of 160.
    sms_code: "{code} to Twoj kod {organization} do resetu hasla. Wazny {minutes} min. Nie podawaj go nikomu.",
    sms_my_code: "{code} to Twoj kod {organization} do Moich informacji zabezpieczajacych. Wazny {minutes} min. Nie podawaj go nikomu.",
    voice_language: "pl-PL",
    voice_intro: "Twój kod {organization} to:",
    voice_again: "Powtarzam:",
    q_count: "{n, plural, one {odpowiedz na pytanie} few {odpowiedz na wszystkie # pytania} many {odpowiedz na wszystkie # pytań} other {odpowiedz na wszystkie # pytania}}",
    q_twice: "każde pytanie można wybrać tylko raz",
    q_unknown: "„{question}” nie jest jednym z pytań organizacji",
    q_own_not_allowed: "organizacja nie pozwala na własne pytania",
    q_own_question: "własne pytanie ma od 10 do {max} znaków, bez znaków sterujących",
    q_too_short: "odpowiedź ma co najmniej {min, plural, one {# znak} few {# znaki} many {# znaków} other {# znaku}}",
    q_too_long: "odpowiedź ma najwyżej {max, plural, one {# znak} few {# znaki} many {# znaków} other {# znaku}}",
    q_control: "odpowiedź nie może zawierać znaków sterujących",
    q_same: "każda odpowiedź musi się różnić od pozostałych",
    q_contains: "odpowiedź nie może zawierać swojego pytania ani być jednym z jego słów",
    q_one_question: "każda odpowiedź wskazuje jedno pytanie: z listy (id) albo własne (own)",
    months: [
        "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
        "września", "października", "listopada", "grudnia",
    ],
    questions: [
        "Jak miało na imię Twoje pierwsze zwierzę domowe?",
        "Przy jakiej ulicy mieszkałeś lub mieszkałaś w dzieciństwie?",
        "Jakie nazwisko nosił Twój pierwszy nauczyciel lub Twoja pierwsza nauczycielka?",
        "Jak miał na imię Twój najlepszy przyjaciel lub Twoja najlepsza przyjaciółka z dzieciństwa?",
        "Jakiego wykonawcę widziałeś lub widziałaś na swoim pierwszym koncercie?",
        "W jakiej miejscowości była Twoja pierwsza praca?",
        "Jaka była Twoja ulubiona książka z dzieciństwa?",
        "Jakiej marki i jaki model był Twój pierwszy samochód lub rower?",
        "W jakiej miejscowości poznali się Twoi rodzice?",
        "Jakie było Twoje przezwisko z dzieciństwa?",
    ],
};
