"""The new connection form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind

FORM = form(BusinessKind.NEW_CONNECTION, "F9")
