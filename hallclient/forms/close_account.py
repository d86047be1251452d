"""The close account form."""

from hallclient.domain.business import BusinessKind
from hallclient.forms.spec import form

FORM = form(BusinessKind.CLOSE, "F7")
