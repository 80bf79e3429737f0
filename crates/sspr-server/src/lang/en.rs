//! English.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day} {month} {year}, {time} UTC",
    code_mail_subject: "{organization}: your verification code",
    code_mail_body: "Your verification code is: {code}\n\n\
        It is valid for {minutes, plural, one {# minute} other {# minutes}}. It was requested at \
        \"{kiosk}\" to reset your password or unlock your account.\n\n\
        If this wasn't you, don't share the code and tell the helpdesk.\n",
    my_security_info: "My security info",
    notice_reset: "Your password was changed",
    notice_unlock: "Your account was unlocked",
    notice_subject: "{organization}: {what}",
    notice_body: "Hello {name},\n\n{what} ({user}) at the kiosk \"{kiosk}\" on {when}.\n\
        Reference: {reference}\n\n\
        If this wasn't you, contact the helpdesk at once: {helpdesk}\n",
    your_helpdesk: "your IT helpdesk",
    admin_notice_subject: "{organization}: administrator {user} reset their password",
    admin_notice_body: "The administrator {name} ({user}) reset their password by self-service at \
        the kiosk \"{kiosk}\" on {when}.\nReference: {reference} (sspr-server audit --ref {reference})\n\n\
        If this is unexpected, treat it as a security incident.\n",
    info_subject: "{organization}: your security info changed",
    info_body: "Hello {name},\n\n{what} (\"My security info\", {when}).\n\n\
        If this wasn't you, contact the helpdesk at once.\n",
    info_body_helpdesk: "Hello {name},\n\n{what} (\"My security info\", {when}).\n\n\
        If this wasn't you, contact the helpdesk at once: {helpdesk}\n",
    info_passkey_added: "A passkey named \"{label}\" was added to your account",
    info_totp_added: "An authenticator app was added to your account",
    info_email_added: "The alternate email {label} was added to your account",
    info_mobile_added: "The mobile number {label} was added to your account",
    info_office_added: "The office number {label} was added to your account",
    info_questions_set: "Your security questions were set up or changed",
    info_passkey_removed: "The passkey \"{label}\" was removed",
    info_totp_removed: "An authenticator app was removed",
    info_email_removed: "The alternate email {label} was removed",
    info_mobile_removed: "The mobile number {label} was removed",
    info_office_removed: "The office number {label} was removed",
    info_questions_removed: "Your security questions were removed",
    info_cleared: "The helpdesk removed all your methods: sign in to My security info and set them up again",
    sms_code: "{code} is your {organization} password reset code. It expires in {minutes} min. Don't share it.",
    sms_my_code: "{code} is your {organization} code for My security info. It expires in {minutes} min. Don't share it.",
    voice_language: "en-US",
    voice_intro: "Your {organization} code is:",
    voice_again: "Again:",
    q_count: "{n, plural, one {answer the question} other {answer all # questions}}",
    q_twice: "each question may be chosen once",
    q_unknown: "\"{question}\" is not one of the organisation's questions",
    q_own_not_allowed: "the organisation doesn't allow questions of your own",
    q_own_question: "a question of your own has 10 to {max} characters, without control characters",
    q_too_short: "an answer has at least {min} characters",
    q_too_long: "an answer has at most {max} characters",
    q_control: "an answer can't hold control characters",
    q_same: "each answer must differ from the others",
    q_contains: "an answer can't contain its question, or be a word of it",
    q_one_question: "each answer names one question: a question of the list (id) or your own (own)",
    months: [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    questions: [
        "What was the name of your first pet?",
        "On which street did you live as a child?",
        "What was the surname of your first teacher?",
        "What was the first name of your best friend as a child?",
        "Which artist did you see at your first concert?",
        "In which town was your first job?",
        "What was your favourite book as a child?",
        "What was the make and model of your first car or bicycle?",
        "In which town did your parents meet?",
        "What was your childhood nickname?",
    ],
};
