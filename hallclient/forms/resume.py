"""The resume form."""

from hallclient.domain.business import BusinessKind
from hallclient.forms.spec import form

FORM = form(BusinessKind.RESUME, "F6")
