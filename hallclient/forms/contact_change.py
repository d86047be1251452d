"""The contact change form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind

FORM = form(BusinessKind.CONTACT_CHANGE, "F8")
