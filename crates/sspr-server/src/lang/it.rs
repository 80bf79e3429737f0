//! Italiano.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day} {month} {year}, {time} UTC",
    code_mail_subject: "{organization}: il tuo codice di verifica",
    code_mail_body: "Il tuo codice di verifica è: {code}\n\n\
        È valido per {minutes, plural, one {# minuto} other {# minuti}}. È stato richiesto da \
        «{kiosk}» per reimpostare la password o sbloccare l'account.\n\n\
        Se non sei tu ad averlo richiesto, non comunicare il codice a nessuno e avvisa l'helpdesk.\n",
    my_security_info: "Le mie informazioni di sicurezza",
    notice_reset: "La tua password è stata cambiata",
    notice_unlock: "Il tuo account è stato sbloccato",
    notice_subject: "{organization}: {what}",
    notice_body: "Ciao {name},\n\n{what} ({user}) alla postazione «{kiosk}» il {when}.\n\
        Riferimento: {reference}\n\n\
        Se non sei tu ad aver fatto questa modifica, contatta subito l'helpdesk: {helpdesk}\n",
    your_helpdesk: "il tuo helpdesk IT",
    admin_notice_subject: "{organization}: l'amministratore {user} ha reimpostato la propria password",
    admin_notice_body: "L'amministratore {name} ({user}) ha reimpostato la propria password in \
        self-service alla postazione «{kiosk}» il {when}.\nRiferimento: {reference} (sspr-server audit --ref {reference})\n\n\
        Se non era previsto, trattalo come un incidente di sicurezza.\n",
    info_subject: "{organization}: le tue informazioni di sicurezza sono cambiate",
    info_body: "Ciao {name},\n\n{what} («Le mie informazioni di sicurezza», {when}).\n\n\
        Se non sei tu ad aver fatto questa modifica, contatta subito l'helpdesk.\n",
    info_body_helpdesk: "Ciao {name},\n\n{what} («Le mie informazioni di sicurezza», {when}).\n\n\
        Se non sei tu ad aver fatto questa modifica, contatta subito l'helpdesk: {helpdesk}\n",
    info_passkey_added: "Una passkey di nome «{label}» è stata aggiunta al tuo account",
    info_totp_added: "Un'app di autenticazione è stata aggiunta al tuo account",
    info_email_added: "L'indirizzo email alternativo {label} è stato aggiunto al tuo account",
    info_mobile_added: "Il numero di cellulare {label} è stato aggiunto al tuo account",
    info_office_added: "Il numero dell'ufficio {label} è stato aggiunto al tuo account",
    info_questions_set: "Le tue domande di sicurezza sono state configurate o modificate",
    info_passkey_removed: "La passkey «{label}» è stata rimossa",
    info_totp_removed: "Un'app di autenticazione è stata rimossa",
    info_email_removed: "L'indirizzo email alternativo {label} è stato rimosso",
    info_mobile_removed: "Il numero di cellulare {label} è stato rimosso",
    info_office_removed: "Il numero dell'ufficio {label} è stato rimosso",
    info_questions_removed: "Le tue domande di sicurezza sono state rimosse",
    info_cleared: "L'helpdesk ha rimosso tutti i tuoi metodi: accedi a «Le mie informazioni di sicurezza» e configurali di nuovo",
    sms_code: "{code} è il tuo codice {organization} per reimpostare la password. Scade tra {minutes} min. Non condividerlo.",
    sms_my_code: "{code} è il tuo codice {organization} per Le mie informazioni di sicurezza. Scade tra {minutes} min. Non condividerlo.",
    voice_language: "it-IT",
    voice_intro: "Il tuo codice {organization} è:",
    voice_again: "Ripeto:",
    q_count: "{n, plural, one {rispondi alla domanda} other {rispondi a tutte le # domande}}",
    q_twice: "ogni domanda può essere scelta una sola volta",
    q_unknown: "«{question}» non è una delle domande dell'organizzazione",
    q_own_not_allowed: "l'organizzazione non consente domande personali",
    q_own_question: "una domanda personale ha da 10 a {max} caratteri, senza caratteri di controllo",
    q_too_short: "una risposta ha almeno {min, plural, one {# carattere} other {# caratteri}}",
    q_too_long: "una risposta ha al massimo {max, plural, one {# carattere} other {# caratteri}}",
    q_control: "una risposta non può contenere caratteri di controllo",
    q_same: "ogni risposta deve essere diversa dalle altre",
    q_contains: "una risposta non può contenere la sua domanda né essere una delle sue parole",
    q_one_question: "ogni risposta indica una sola domanda: una dell'elenco (id) o una tua (own)",
    months: [
        "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
        "settembre", "ottobre", "novembre", "dicembre",
    ],
    questions: [
        "Come si chiamava il tuo primo animale domestico?",
        "In che via abitavi da bambino o da bambina?",
        "Qual era il cognome del tuo primo insegnante o della tua prima insegnante?",
        "Qual era il nome del tuo migliore amico o della tua migliore amica d'infanzia?",
        "Quale artista hai visto al tuo primo concerto?",
        "In quale città hai avuto il tuo primo lavoro?",
        "Qual era il tuo libro preferito da bambino o da bambina?",
        "Di che marca e modello erano la tua prima auto o la tua prima bicicletta?",
        "In quale città si sono conosciuti i tuoi genitori?",
        "Qual era il tuo soprannome da bambino o da bambina?",
    ],
};
