//! Français.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day} {month} {year} à {time} UTC",
    code_mail_subject: "{organization} : votre code de vérification",
    code_mail_body: "Votre code de vérification est : {code}\n\n\
        Il est valable {minutes, plural, one {# minute} other {# minutes}}. Il a été demandé depuis \
        « {kiosk} » pour réinitialiser votre mot de passe ou déverrouiller votre compte.\n\n\
        Si ce n'était pas vous, ne communiquez pas ce code et prévenez le support informatique.\n",
    my_security_info: "Mes informations de sécurité",
    notice_reset: "Votre mot de passe a été modifié",
    notice_unlock: "Votre compte a été déverrouillé",
    notice_subject: "{organization} : {what}",
    notice_body: "Bonjour {name},\n\n{what} ({user}) à la borne « {kiosk} » le {when}.\n\
        Référence : {reference}\n\n\
        Si ce n'était pas vous, contactez immédiatement le support informatique : {helpdesk}\n",
    your_helpdesk: "votre support informatique",
    admin_notice_subject: "{organization} : l'administrateur {user} a réinitialisé son mot de passe",
    admin_notice_body: "L'administrateur {name} ({user}) a réinitialisé son mot de passe en libre-service \
        à la borne « {kiosk} » le {when}.\nRéférence : {reference} (sspr-server audit --ref {reference})\n\n\
        Si ce n'est pas attendu, traitez-le comme un incident de sécurité.\n",
    info_subject: "{organization} : vos informations de sécurité ont changé",
    info_body: "Bonjour {name},\n\n{what} (« Mes informations de sécurité », {when}).\n\n\
        Si ce n'était pas vous, contactez immédiatement le support informatique.\n",
    info_body_helpdesk: "Bonjour {name},\n\n{what} (« Mes informations de sécurité », {when}).\n\n\
        Si ce n'était pas vous, contactez immédiatement le support informatique : {helpdesk}\n",
    info_passkey_added: "Une clé d'accès nommée « {label} » a été ajoutée à votre compte",
    info_totp_added: "Une application d'authentification a été ajoutée à votre compte",
    info_email_added: "L'adresse e-mail secondaire {label} a été ajoutée à votre compte",
    info_mobile_added: "Le numéro de mobile {label} a été ajouté à votre compte",
    info_office_added: "Le numéro de bureau {label} a été ajouté à votre compte",
    info_questions_set: "Vos questions de sécurité ont été configurées ou modifiées",
    info_passkey_removed: "La clé d'accès « {label} » a été supprimée",
    info_totp_removed: "Une application d'authentification a été supprimée",
    info_email_removed: "L'adresse e-mail secondaire {label} a été supprimée",
    info_mobile_removed: "Le numéro de mobile {label} a été supprimé",
    info_office_removed: "Le numéro de bureau {label} a été supprimé",
    info_questions_removed: "Vos questions de sécurité ont été supprimées",
    info_cleared: "Le support informatique a supprimé toutes vos méthodes : connectez-vous à « Mes informations de sécurité » et configurez-les à nouveau",
    sms_code: "{code} est votre code {organization} pour réinitialiser le mot de passe. Valable {minutes} min. Ne le partagez pas.",
    sms_my_code: "{code} est votre code {organization} pour Mes informations de sécurité. Valable {minutes} min. Ne le partagez pas.",
    voice_language: "fr-FR",
    voice_intro: "Votre code {organization} est :",
    voice_again: "Je répète :",
    q_count: "{n, plural, one {répondez à la question} other {répondez aux # questions}}",
    q_twice: "chaque question ne peut être choisie qu'une fois",
    q_unknown: "« {question} » ne fait pas partie des questions de l'organisation",
    q_own_not_allowed: "l'organisation n'autorise pas les questions personnelles",
    q_own_question: "une question personnelle compte de 10 à {max} caractères, sans caractères de contrôle",
    q_too_short: "une réponse compte au moins {min, plural, one {# caractère} other {# caractères}}",
    q_too_long: "une réponse compte au plus {max, plural, one {# caractère} other {# caractères}}",
    q_control: "une réponse ne peut pas contenir de caractères de contrôle",
    q_same: "chaque réponse doit être différente des autres",
    q_contains: "une réponse ne peut pas contenir sa question ni être l'un de ses mots",
    q_one_question: "chaque réponse désigne une seule question : une question de la liste (id) ou la vôtre (own)",
    months: [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre",
    ],
    questions: [
        "Quel était le nom de votre premier animal de compagnie ?",
        "Dans quelle rue habitiez-vous quand vous étiez enfant ?",
        "Quel était le nom de famille de votre premier enseignant ou de votre première enseignante ?",
        "Quel était le prénom de votre meilleur ami ou de votre meilleure amie d'enfance ?",
        "Quel artiste avez-vous vu à votre premier concert ?",
        "Dans quelle ville avez-vous eu votre premier emploi ?",
        "Quel était votre livre préféré quand vous étiez enfant ?",
        "Quels étaient la marque et le modèle de votre première voiture ou de votre premier vélo ?",
        "Dans quelle ville vos parents se sont-ils rencontrés ?",
        "Quel était votre surnom d'enfance ?",
    ],
};
