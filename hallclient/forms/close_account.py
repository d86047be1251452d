"""The close account form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind

FORM = form(BusinessKind.CLOSE, "F7")
