"""The new connection form."""

from hallclient.domain.business import BusinessKind
from hallclient.forms.spec import form

FORM = form(BusinessKind.NEW_CONNECTION, "F9")
