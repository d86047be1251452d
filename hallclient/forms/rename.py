"""The rename form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind

FORM = form(BusinessKind.RENAME, "F4", current_from_account={"new_name": "holder_name"})
