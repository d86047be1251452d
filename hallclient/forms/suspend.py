"""The suspend form."""

from hallclient.forms.spec import form
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text

FORM = form(BusinessKind.SUSPEND, "F5", resume_on=Text(
    "可不填；最长 180 天", "optional; at most 180 days"))
