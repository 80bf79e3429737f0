//! Español.

use super::Texts;

pub const TEXTS: Texts = Texts {
    date_time: "{day} de {month} de {year}, {time} UTC",
    code_mail_subject: "{organization}: su código de verificación",
    code_mail_body: "Su código de verificación es: {code}\n\n\
        Es válido durante {minutes, plural, one {# minuto} other {# minutos}}. Se solicitó en \
        «{kiosk}» para restablecer su contraseña o desbloquear su cuenta.\n\n\
        Si no fue usted, no comparta el código y avise al servicio de asistencia.\n",
    my_security_info: "Mi información de seguridad",
    notice_reset: "Su contraseña se ha cambiado",
    notice_unlock: "Su cuenta se ha desbloqueado",
    notice_subject: "{organization}: {what}",
    notice_body: "Hola, {name}:\n\n{what} ({user}) en el quiosco «{kiosk}» el {when}.\n\
        Referencia: {reference}\n\n\
        Si no fue usted, póngase en contacto de inmediato con el servicio de asistencia: {helpdesk}\n",
    your_helpdesk: "su servicio de asistencia informática",
    admin_notice_subject: "{organization}: el administrador {user} ha restablecido su contraseña",
    admin_notice_body: "El administrador {name} ({user}) ha restablecido su contraseña mediante \
        autoservicio en el quiosco «{kiosk}» el {when}.\nReferencia: {reference} (sspr-server audit --ref {reference})\n\n\
        Si no se esperaba, trátelo como un incidente de seguridad.\n",
    info_subject: "{organization}: su información de seguridad ha cambiado",
    info_body: "Hola, {name}:\n\n{what} («Mi información de seguridad», {when}).\n\n\
        Si no fue usted, póngase en contacto de inmediato con el servicio de asistencia.\n",
    info_body_helpdesk: "Hola, {name}:\n\n{what} («Mi información de seguridad», {when}).\n\n\
        Si no fue usted, póngase en contacto de inmediato con el servicio de asistencia: {helpdesk}\n",
    info_passkey_added: "Se ha añadido a su cuenta una llave de acceso llamada «{label}»",
    info_totp_added: "Se ha añadido a su cuenta una aplicación de autenticación",
    info_email_added: "Se ha añadido a su cuenta el correo alternativo {label}",
    info_mobile_added: "Se ha añadido a su cuenta el número de móvil {label}",
    info_office_added: "Se ha añadido a su cuenta el número de oficina {label}",
    info_questions_set: "Se han configurado o cambiado sus preguntas de seguridad",
    info_passkey_removed: "Se ha quitado la llave de acceso «{label}»",
    info_totp_removed: "Se ha quitado una aplicación de autenticación",
    info_email_removed: "Se ha quitado el correo alternativo {label}",
    info_mobile_removed: "Se ha quitado el número de móvil {label}",
    info_office_removed: "Se ha quitado el número de oficina {label}",
    info_questions_removed: "Se han quitado sus preguntas de seguridad",
    info_cleared: "El servicio de asistencia ha quitado todos sus métodos: inicie sesión en «Mi información de seguridad» y vuelva a configurarlos",
    sms_code: "{code} es su clave de {organization} para restablecer la contraseña. Caduca en {minutes} min. No la comparta.",
    sms_my_code: "{code} es su clave de {organization} para sus datos de seguridad. Caduca en {minutes} min. No la comparta.",
    voice_language: "es-ES",
    voice_intro: "Su código de {organization} es:",
    voice_again: "Repito:",
    q_count: "{n, plural, one {responda a la pregunta} other {responda a las # preguntas}}",
    q_twice: "cada pregunta solo se puede elegir una vez",
    q_unknown: "«{question}» no es una de las preguntas de la organización",
    q_own_not_allowed: "la organización no permite preguntas propias",
    q_own_question: "una pregunta propia tiene entre 10 y {max} caracteres, sin caracteres de control",
    q_too_short: "una respuesta tiene al menos {min, plural, one {# carácter} other {# caracteres}}",
    q_too_long: "una respuesta tiene como máximo {max, plural, one {# carácter} other {# caracteres}}",
    q_control: "una respuesta no puede contener caracteres de control",
    q_same: "cada respuesta debe ser distinta de las demás",
    q_contains: "una respuesta no puede contener su pregunta ni ser una de sus palabras",
    q_one_question: "cada respuesta indica una sola pregunta: una de la lista (id) o una propia (own)",
    months: [
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
        "octubre", "noviembre", "diciembre",
    ],
    questions: [
        "¿Cómo se llamaba su primera mascota?",
        "¿En qué calle vivía de niño o de niña?",
        "¿Cuál era el apellido de su primer maestro o maestra?",
        "¿Cuál era el nombre de su mejor amigo o amiga de la infancia?",
        "¿Qué artista vio en su primer concierto?",
        "¿En qué ciudad tuvo su primer trabajo?",
        "¿Cuál era su libro favorito de pequeño o pequeña?",
        "¿Qué marca y modelo eran su primer coche o su primera bicicleta?",
        "¿En qué ciudad se conocieron sus padres?",
        "¿Cuál era su apodo de la infancia?",
    ],
};
