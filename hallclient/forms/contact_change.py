"""The contact change form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind

FORM = form(BusinessKind.CONTACT_CHANGE, "F8", current_from_account={
    "phone": "phone", "mailing_address": "mailing_address", "sms_consent": "sms_consent",
    "sms_language": "sms_language"})
