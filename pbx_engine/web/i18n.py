"""The pages' words in German and English, the language a request gets, and amounts written the
way each language writes them (``15,00 €`` / ``€15.00``), from integers only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from rating import Unit
from rating.tariff import UNITS_PER_EUR

LANGS = ("de", "en")
LANG_COOKIE = "mc_lang"
CALLERS_ZONE = ZoneInfo("Europe/Berlin")

TEXTS: dict[str, tuple[str, str]] = {
    "lang_other": ("English", "Deutsch"),
    "heading": ("Guthaben aufladen", "Top up your credit"),
    "start_intro": (
        "Laden Sie Ihre Karte auf. Geben Sie die Rufnummer ein, mit der Sie anrufen, und die "
        "letzten vier Ziffern der Seriennummer Ihrer Karte (oder die ganze Seriennummer).",
        "Top up your card. Enter the phone number you call from and the last four digits of "
        "your card's serial number (or the whole serial number).",
    ),
    "line": ("Ihre Rufnummer", "Your phone number"),
    "line_hint": (
        "z. B. 0171 2345678 oder +49 171 2345678",
        "e.g. 0171 2345678 or +49 171 2345678",
    ),
    "serial": ("Seriennummer (letzte 4 Ziffern)", "Serial number (last 4 digits)"),
    "continue": ("Weiter", "Continue"),
    "not_found": (
        "Zu diesen Angaben finden wir keine aufladbare Karte. Bitte prüfen Sie Rufnummer und "
        "Seriennummer.",
        "We find no card to top up for these details. Please check the number and the serial.",
    ),
    "bad_line": ("Das ist keine gültige Rufnummer.", "That is not a valid phone number."),
    "bad_serial": (
        "Bitte die letzten vier Ziffern oder die ganze Seriennummer eingeben.",
        "Please enter the last four digits or the whole serial number.",
    ),
    "card": ("Karte", "Card"),
    "project": ("Projekt", "Project"),
    "balance": ("Guthaben", "Balance"),
    "minutes_left": ("Minuten zum Standardtarif", "Minutes at the standard tariff"),
    "choose_amount": ("Betrag wählen", "Choose an amount"),
    "wrong_amount": (
        "Diesen Betrag gibt es nicht. Bitte wählen Sie einen der angebotenen Beträge.",
        "That amount is not offered. Please choose one of the amounts shown.",
    ),
    "choose_provider": ("Zahlungsart", "Payment method"),
    "provider_transfer": ("Überweisung", "Bank transfer"),
    "provider_webhook": ("Online bezahlen", "Pay online"),
    "provider_paypal": ("PayPal", "PayPal"),
    "pay": ("Kostenpflichtig aufladen", "Pay and top up"),
    "amount": ("Betrag", "Amount"),
    "refused": ("Diese Karte kann nicht aufgeladen werden.", "This card cannot be topped up."),
    "expired_flow": (
        "Diese Seite ist abgelaufen. Bitte beginnen Sie von vorn.",
        "This page has expired. Please start again.",
    ),
    "start_again": ("Von vorn beginnen", "Start again"),
    "order": ("Auftrag", "Order"),
    "order_status": ("Status", "Status"),
    "status_created": ("angelegt, wartet auf die Zahlung", "created, waiting for the payment"),
    "status_authorized": ("Zahlung reserviert", "payment reserved"),
    "status_credited": ("gutgeschrieben", "credited"),
    "status_captured": ("bezahlt und gutgeschrieben", "paid and credited"),
    "status_failed": ("fehlgeschlagen", "failed"),
    "status_expired": ("abgelaufen", "expired"),
    "status_voided": ("storniert", "voided"),
    "new_balance": ("Neues Guthaben", "New balance"),
    "credit_live": (
        "Das Guthaben ist sofort nutzbar, auch in einem laufenden Gespräch.",
        "The credit can be used at once, even in a call that is running.",
    ),
    "no_payments": (
        "Hier kann zurzeit nicht online bezahlt werden.",
        "Online payment is not available here at the moment.",
    ),
    "reload": ("Status aktualisieren", "Refresh status"),
    "no_order": ("Diesen Auftrag gibt es nicht.", "There is no such order."),
    "transfer_intro": (
        "Bitte überweisen Sie den Betrag mit dieser Referenz als Verwendungszweck:",
        "Please transfer the amount with this reference as the payment reference:",
    ),
    "reference": ("Referenz", "Reference"),
    "account_link": (
        "Mein Konto: Guthaben und Einzelverbindungen",
        "My account: balance and calls",
    ),
    "topup_link": ("Karte aufladen", "Top up a card"),
    "pin": ("PIN der Karte", "Card PIN"),
    "sign_in": ("Anmelden", "Sign in"),
    "sign_in_intro": (
        "Melden Sie sich mit Ihrer Rufnummer und der PIN Ihrer Karte an.",
        "Sign in with your phone number and your card's PIN.",
    ),
    "bad_pin": (
        "Rufnummer oder PIN stimmen nicht.",
        "The phone number or the PIN is not right.",
    ),
    "locked": (
        "Zu viele falsche Versuche. Bitte versuchen Sie es später noch einmal.",
        "Too many wrong tries. Please try again later.",
    ),
    "sign_out": ("Abmelden", "Sign out"),
    "last_topups": ("Letzte Aufladungen", "Last top-ups"),
    "no_topups": ("Noch keine Aufladung.", "No top-up yet."),
    "calls_of": ("Gespräche im", "Calls in"),
    "no_calls": ("Keine Gespräche in diesem Monat.", "No calls this month."),
    "time": ("Zeit", "Time"),
    "dialed": ("Nummer", "Number"),
    "billed_seconds": ("Abgerechnete Sekunden", "Billed seconds"),
    "billed_short": ("Sek.", "Sec."),
    "charge": ("Kosten", "Charge"),
    "statement_pdf": ("Monatsauszug als PDF", "Statement of the month (PDF)"),
    "date": ("Datum", "Date"),
    "too_many": (
        "Zu viele Anfragen. Bitte warten Sie einen Moment und versuchen Sie es dann erneut.",
        "Too many requests. Please wait a moment and try again.",
    ),
    "forbidden": (
        "Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte laden Sie die Seite "
        "neu.",
        "The form has expired or did not come from this page. Please reload the page.",
    ),
    "not_found_page": ("Diese Seite gibt es nicht.", "There is no such page."),
    "error": (
        "Das hat nicht geklappt. Bitte versuchen Sie es später noch einmal; es wurde nichts "
        "abgebucht.",
        "That did not work. Please try again later; nothing was charged.",
    ),
    "bad_request": ("Diese Anfrage verstehen wir nicht.", "We do not understand this request."),
    "support": ("Hilfe", "Help"),
    "minutes_unit": ("Min.", "min"),
}


def pick(request: web.Request) -> str:
    """``?lang=`` (the switch link), then the remembered cookie, then Accept-Language; German
    when nothing says otherwise."""
    asked = request.query.get("lang", "")
    if asked in LANGS:
        return asked
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGS:
        return remembered
    best, best_q = "de", -1
    for part in request.headers.get("Accept-Language", "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        weight = _weight(params.strip())
        if code in LANGS and weight > best_q:
            best, best_q = code, weight
    return best


def _weight(params: str) -> int:
    """A q-value in thousandths (``q=0.8`` → 800); 1000 without one, -1 when unreadable."""
    if not params:
        return 1000
    value = params.removeprefix("q=").strip()
    whole, _, frac = value.partition(".")
    if whole not in ("0", "1") or not ((frac.isascii() and frac.isdigit()) or frac == ""):
        return -1
    return int(whole) * 1000 + int((frac + "000")[:3])


def texts(lang: str) -> dict[str, str]:
    index = LANGS.index(lang)
    return {key: pair[index] for key, pair in TEXTS.items()}


def amount(value: int, unit: Unit, lang: str) -> str:
    """``15,00 €`` (de) or ``€15.00`` (en) for money (1/10,000 EUR, more decimals only when
    the amount has them); ``30 Min.`` for a minutes card's seconds."""
    if unit == Unit.MINUTES:
        minutes, seconds = divmod(abs(value), 60)
        sign = "-" if value < 0 else ""
        word = TEXTS["minutes_unit"][LANGS.index(lang)]
        return f"{sign}{minutes}\u00a0{word}" + (f"\u00a0{seconds}\u00a0s" if seconds else "")
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), UNITS_PER_EUR)
    decimals = f"{frac:04d}"
    if decimals.endswith("00"):
        decimals = decimals[:2]
    group = "." if lang == "de" else ","
    grouped = f"{whole:,}".replace(",", group)
    if lang == "de":
        return f"{sign}{grouped},{decimals}\u00a0€"  # a no-break space: never € alone
    return f"{sign}€{grouped}.{decimals}"


def local(at: datetime) -> datetime:
    """A stored UTC time as the callers' clock shows it (German time, summer time included)."""
    return at.astimezone(CALLERS_ZONE)


def number(value: int, lang: str) -> str:
    """A whole number with the language's thousands separator."""
    return f"{value:,}".replace(",", "." if lang == "de" else ",")
