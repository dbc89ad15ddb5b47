"""The prompt ids the engine may play and their texts in each registered language."""

from __future__ import annotations

from enum import StrEnum


class PromptId(StrEnum):
    WELCOME = "welcome"
    ENTER_PIN = "enter_pin"
    PIN_INVALID = "pin_invalid"
    PIN_LOCKED = "pin_locked"
    ACTIVATED = "activated"
    BALANCE_IS = "balance_is"
    REMAINING = "remaining"
    CREDIT_SUFFIX = "credit_suffix"
    MINUTE = "minute"
    MINUTES = "minutes"
    NOT_ACTIVATED = "not_activated"
    NO_CREDIT = "no_credit"
    WARNING = "warning"
    WARNING_SOON = "warning_soon"
    SECOND = "second"
    SECONDS = "seconds"
    CREDIT_EXHAUSTED = "credit_exhausted"
    CONNECTING = "connecting"
    ADVISOR_UNAVAILABLE = "advisor_unavailable"
    NUMBER_NOT_REACHABLE = "number_not_reachable"
    CLIR_REQUIRED = "clir_required"
    TOPPED_UP = "topped_up"
    PRESS_1_TO_CONNECT = "press_1_to_connect"
    TARIFF = "tariff"
    PER_MINUTE = "per_minute"
    EURO = "euro"
    CENT = "cent"
    GOODBYE = "goodbye"
    SERVICE_UNAVAILABLE = "service_unavailable"
    CLOSED = "closed"
    EXTENSION_OFFER = "extension_offer"
    EXTENSION_UNAVAILABLE = "extension_unavailable"
    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"


PROMPTS: dict[PromptId, dict[str, str]] = {
    PromptId.WELCOME: {
        "de": "Herzlich willkommen bei Ihrer Beratungs-Hotline.",
        "en": "Welcome to your advice line.",
    },
    PromptId.ENTER_PIN: {
        "de": "Bitte geben Sie Ihre PIN ein und bestätigen Sie mit der Rautetaste.",
        "en": "Please enter your PIN, followed by the hash key.",
    },
    PromptId.PIN_INVALID: {
        "de": "Diese PIN ist leider nicht gültig. Bitte versuchen Sie es noch einmal.",
        "en": "Sorry, that PIN is not valid. Please try again.",
    },
    PromptId.PIN_LOCKED: {
        "de": "Zu viele falsche Eingaben. Die PIN-Eingabe ist für diesen Anschluss "
        "vorübergehend gesperrt. Bitte versuchen Sie es später noch einmal.",
        "en": "Too many wrong attempts. PIN entry is locked for this line for a while. "
        "Please try again later.",
    },
    PromptId.ACTIVATED: {
        "de": "Vielen Dank. Ihre Karte ist jetzt für diesen Anschluss freigeschaltet.",
        "en": "Thank you. Your card is now activated for this phone line.",
    },
    PromptId.BALANCE_IS: {"de": "Ihr Guthaben beträgt", "en": "Your balance is"},
    PromptId.REMAINING: {"de": "Sie haben noch", "en": "You have"},
    PromptId.CREDIT_SUFFIX: {"de": "Guthaben.", "en": "of credit left."},
    PromptId.MINUTE: {"de": "Minute", "en": "minute"},
    PromptId.MINUTES: {"de": "Minuten", "en": "minutes"},
    PromptId.NOT_ACTIVATED: {
        "de": "Ihr Anschluss ist noch nicht freigeschaltet.",
        "en": "Your phone line is not activated yet.",
    },
    PromptId.NO_CREDIT: {
        "de": "Ihr Guthaben reicht leider nicht für ein Gespräch. Bitte laden Sie Ihr "
        "Guthaben auf.",
        "en": "Sorry, your credit is not enough for a call. Please top up your credit.",
    },
    PromptId.WARNING: {
        "de": "Hinweis: Ihr Guthaben reicht noch für",
        "en": "Please note: your credit runs out in",
    },
    PromptId.WARNING_SOON: {
        "de": "Hinweis: Ihr Guthaben ist bald aufgebraucht.",
        "en": "Please note: your credit runs out soon.",
    },
    PromptId.SECOND: {"de": "Sekunde", "en": "second"},
    PromptId.SECONDS: {"de": "Sekunden", "en": "seconds"},
    PromptId.CREDIT_EXHAUSTED: {
        "de": "Ihr Guthaben ist aufgebraucht. Das Gespräch wird jetzt beendet.",
        "en": "Your credit is used up. The call will end now.",
    },
    PromptId.CONNECTING: {
        "de": "Sie werden jetzt verbunden.",
        "en": "Connecting you now.",
    },
    PromptId.ADVISOR_UNAVAILABLE: {
        "de": "Leider ist gerade keine Beraterin und kein Berater erreichbar. Ihr Guthaben "
        "wurde nicht belastet. Bitte rufen Sie später wieder an.",
        "en": "Sorry, no advisor is available right now. Your credit was not charged. "
        "Please call again later.",
    },
    PromptId.NUMBER_NOT_REACHABLE: {
        "de": "Diese Rufnummer ist von Ihrem Anschluss aus leider nicht erreichbar.",
        "en": "Sorry, this number cannot be reached from your phone line.",
    },
    PromptId.CLIR_REQUIRED: {
        "de": "Bitte schalten Sie die Übermittlung Ihrer Rufnummer ein und rufen Sie erneut an.",
        "en": "Please turn on caller ID and call again.",
    },
    PromptId.TOPPED_UP: {
        "de": "Ihr Guthaben wurde aufgeladen.",
        "en": "Your credit has been topped up.",
    },
    PromptId.PRESS_1_TO_CONNECT: {
        "de": "Um mit einer Beraterin oder einem Berater verbunden zu werden, drücken Sie "
        "bitte die Eins.",
        "en": "To be connected to an advisor, please press one.",
    },
    PromptId.TARIFF: {"de": "Dieses Gespräch kostet", "en": "This call costs"},
    PromptId.PER_MINUTE: {"de": "pro Minute.", "en": "per minute."},
    PromptId.EURO: {"de": "Euro", "en": "euros"},
    PromptId.CENT: {"de": "Cent", "en": "cents"},
    PromptId.SERVICE_UNAVAILABLE: {
        "de": "Der Dienst ist im Moment leider nicht erreichbar. "
        "Bitte versuchen Sie es später noch einmal.",
        "en": "Sorry, the service is not available at the moment. Please try again later.",
    },
    PromptId.CLOSED: {
        "de": "Sie rufen leider außerhalb unserer Sprechzeiten an. Ihr Guthaben wurde nicht "
        "belastet. Bitte rufen Sie zu unseren Sprechzeiten wieder an.",
        "en": "Sorry, you are calling outside our opening hours. Your credit was not charged. "
        "Please call again during our opening hours.",
    },
    PromptId.EXTENSION_OFFER: {
        "de": "Wenn Sie die Durchwahl Ihrer Beraterin oder Ihres Beraters kennen, geben Sie sie "
        "jetzt ein und drücken Sie die Rautetaste.",
        "en": "If you know your advisor's extension, please enter it now, followed by the hash "
        "key.",
    },
    PromptId.EXTENSION_UNAVAILABLE: {
        "de": "Diese Durchwahl ist gerade nicht erreichbar. Wir verbinden Sie mit der nächsten "
        "freien Beraterin oder dem nächsten freien Berater.",
        "en": "This extension is not available right now. We are connecting you to the next "
        "free advisor.",
    },
    PromptId.LOGGED_IN: {
        "de": "Sie sind jetzt angemeldet und erhalten Anrufe.",
        "en": "You are logged in now and will receive calls.",
    },
    PromptId.LOGGED_OUT: {
        "de": "Sie sind jetzt abgemeldet und erhalten keine Anrufe.",
        "en": "You are logged out now and will receive no calls.",
    },
    PromptId.GOODBYE: {
        "de": "Vielen Dank für Ihren Anruf. Auf Wiederhören.",
        "en": "Thank you for calling. Goodbye.",
    },
}
