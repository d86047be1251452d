"""The contact change form."""

from hallclient.domain.business import BusinessKind
from hallclient.forms.spec import form

FORM = form(BusinessKind.CONTACT_CHANGE, "F8")
